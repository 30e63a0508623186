// Runs in: plain Node (CLI). `xray snapshot …`: take, list, revert and delete
// snapshots; live ones through the supervisor, offline ones in the files.
import type { Command } from 'commander';
import { formatBytes } from '../../shared/format';
import type { SnapshotInfo } from '../../shared/models';
import { withConnection, type CliContext } from '../context';
import { arg } from '../declare';
import { confirmOrForce } from '../interact';
import type { Output } from '../output';

/** printSnapshots prints snapshots as a table under a header, each line after indent; ORIGIN tells Xray's automatic ones from a person's. */
export function printSnapshots(out: Output, list: readonly SnapshotInfo[], indent = ''): void {
  out.table(
    ['NAME', 'TAKEN', 'ORIGIN', 'KIND', 'MEMORY', 'DESCRIPTION'],
    list.map((snap) => [
      out.bold(snap.name),
      snap.date,
      snap.auto ? 'auto' : 'user',
      snap.hasMemory ? out.tint('memory', 'cyan') : 'disk',
      snap.hasMemory ? formatBytes(snap.vmStateSize) : '-',
      snap.description ? out.dim(snap.description) : '',
    ]),
    indent,
  );
}

export interface SnapshotListOptions {
  readonly vm: string;
  readonly json?: boolean;
}

/** runSnapshotList prints a VM's snapshots, read from its disk even while another process runs it. */
export async function runSnapshotList(ctx: CliContext, opts: SnapshotListOptions): Promise<void> {
  const list = await withConnection(ctx, 'files', (api) => api.call('snapshot.list', { vm: opts.vm }));
  if (opts.json) return ctx.out.json(list);
  if (list.length === 0) return ctx.out.line(`VM "${opts.vm}" has no snapshots. Take one with "xray snapshot create ${opts.vm} NAME".`);
  printSnapshots(ctx.out, list);
}

export interface SnapshotCreateOptions {
  readonly vm: string;
  readonly name: string;
  readonly description?: string;
  readonly json?: boolean;
}

/** runSnapshotCreate takes a snapshot: with memory of a running VM, of the disk alone otherwise. */
export async function runSnapshotCreate(ctx: CliContext, opts: SnapshotCreateOptions): Promise<void> {
  const { vm } = opts;
  const snap = await withConnection(ctx, { vm }, (api) => api.call('snapshot.create', { vm, name: opts.name, description: opts.description }));
  if (opts.json) return ctx.out.json(snap);
  ctx.out.line(`Took snapshot "${snap.name}" of VM "${vm}"${snap.hasMemory ? ' with memory' : ' (disk only)'}.`);
}

export interface SnapshotChangeOptions {
  readonly vm: string;
  readonly name: string;
  readonly force?: boolean;
}

/** runSnapshotRevert puts a VM back to a snapshot once the person agrees. */
export async function runSnapshotRevert(ctx: CliContext, opts: SnapshotChangeOptions): Promise<void> {
  const { vm, name } = opts;
  await confirmOrForce(ctx.term, opts.force, `Revert VM "${vm}" to snapshot "${name}"? Changes since then are lost.`);
  await withConnection(ctx, { vm }, (api) => api.call('snapshot.revert', { vm, name }));
  ctx.out.line(`Reverted VM "${vm}" to snapshot "${name}".`);
}

/** runSnapshotDelete deletes a snapshot once the person agrees. */
export async function runSnapshotDelete(ctx: CliContext, opts: SnapshotChangeOptions): Promise<void> {
  const { vm, name } = opts;
  await confirmOrForce(ctx.term, opts.force, `Delete snapshot "${name}" of VM "${vm}"?`);
  await withConnection(ctx, { vm }, (api) => api.call('snapshot.delete', { vm, name }));
  ctx.out.line(`Deleted snapshot "${name}" of VM "${vm}".`);
}

export function registerSnapshotCommands(program: Command, ctx: CliContext): void {
  const snapshot = program.command('snapshot').description('take, list, revert and delete snapshots');
  snapshot
    .command('list')
    .addArgument(arg('<vm>', 'vm'))
    .option('--json', 'print JSON')
    .action((vm: string, opts: Omit<SnapshotListOptions, 'vm'>) => runSnapshotList(ctx, { ...opts, vm }));
  snapshot
    .command('create')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<name>', 'nothing'))
    .option('-m, --description <text>', 'a note kept with the snapshot')
    .option('--json', 'print the snapshot as JSON')
    .action((vm: string, name: string, opts: Omit<SnapshotCreateOptions, 'vm' | 'name'>) => runSnapshotCreate(ctx, { ...opts, vm, name }));
  snapshot
    .command('revert')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<name>', 'snapshot'))
    .option('-f, --force', 'do not ask')
    .action((vm: string, name: string, opts: { force?: boolean }) => runSnapshotRevert(ctx, { ...opts, vm, name }));
  snapshot
    .command('delete')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<name>', 'snapshot'))
    .option('-f, --force', 'do not ask')
    .action((vm: string, name: string, opts: { force?: boolean }) => runSnapshotDelete(ctx, { ...opts, vm, name }));
}

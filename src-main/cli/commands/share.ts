// Runs in: plain Node (CLI). `xray share …`: host folders a VM sees (virtio-9p).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Share, ShareChange } from '../../shared/models';
import { SHARES_APPLY } from '../../shared/shares';
import { withConnection, type CliContext } from '../context';
import { arg } from '../declare';

export interface ShareListOptions {
  readonly vm: string;
  readonly json?: boolean;
}

function mode(share: Share): string {
  return share.readOnly ? 'read-only' : 'read-write';
}

/** runShareList prints a VM's shared folders. */
export async function runShareList(ctx: CliContext, opts: ShareListOptions): Promise<void> {
  const shares = await withConnection(ctx, 'files', (api) => api.call('share.list', { vm: opts.vm }));
  if (opts.json) return ctx.out.json(shares);
  if (shares.length === 0) return ctx.out.line(`VM "${opts.vm}" shares no folders; add one with "xray share add ${opts.vm} FOLDER".`);
  ctx.out.table(['HOST', 'GUEST', 'MODE'], shares.map((s) => [s.hostPath, s.guestPath, mode(s)]));
}

export interface ShareAddOptions {
  readonly vm: string;
  /** hostDir is the folder as typed (relative to the current directory, or absolute). */
  readonly hostDir: string;
  readonly guestPath?: string;
  readonly readOnly?: boolean;
}

/** when says when a change is seen: the next start, and how to get there for a running VM. */
function when(vm: string, change: ShareChange, running: string): string {
  return change.vmRunning ? `${SHARES_APPLY} VM "${vm}" is running, so ${running} until you stop and start it.` : SHARES_APPLY;
}

/** runShareAdd adds a shared folder, seen from the VM's next start. */
export async function runShareAdd(ctx: CliContext, opts: ShareAddOptions): Promise<void> {
  const change = await withConnection(ctx, 'files', (api) =>
    api.call('share.add', { vm: opts.vm, hostPath: resolve(opts.hostDir), guestPath: opts.guestPath, readOnly: opts.readOnly }),
  );
  const { share } = change;
  ctx.out.line(`VM "${opts.vm}" shares ${share.hostPath} at ${share.guestPath} (${mode(share)}). ${when(opts.vm, change, 'it is not mounted')}`);
}

export interface ShareRemoveOptions {
  readonly vm: string;
  /** path is the share's guest path or its host folder (relative to the current directory, or absolute). */
  readonly path: string;
}

/** runShareRemove removes a shared folder. */
export async function runShareRemove(ctx: CliContext, opts: ShareRemoveOptions): Promise<void> {
  const change = await withConnection(ctx, 'files', (api) => api.call('share.remove', { vm: opts.vm, path: resolve(opts.path) }));
  const { share } = change;
  ctx.out.line(`VM "${opts.vm}" no longer shares ${share.hostPath} at ${share.guestPath}. ${when(opts.vm, change, 'it stays mounted')}`);
}

export function registerShareCommands(program: Command, ctx: CliContext): void {
  const share = program.command('share').description('share host folders with a VM (mounted in the guest at boot)');
  share
    .command('list')
    .addArgument(arg('<vm>', 'vm'))
    .option('--json', 'print JSON')
    .action((vm: string, opts: { json?: boolean }) => runShareList(ctx, { ...opts, vm }));
  share
    .command('add')
    .description('share HOST_DIR at GUEST_PATH (default: the same path) from the next start')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<host_dir>', 'file'))
    .addArgument(arg('[guest_path]', 'nothing'))
    .option('--read-only', 'the guest may read but not write')
    .action((vm: string, hostDir: string, guestPath: string | undefined, opts: { readOnly?: boolean }) => runShareAdd(ctx, { vm, hostDir, guestPath, readOnly: opts.readOnly }));
  share
    .command('remove')
    .description('stop sharing a folder, named by its guest path or host folder')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<path>', 'file'))
    .action((vm: string, path: string) => runShareRemove(ctx, { vm, path }));
}

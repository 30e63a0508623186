// Runs in: plain Node (CLI). `xray port …`: forwards from 127.0.0.1 to a VM.
import type { Command } from 'commander';
import { formatPortMapping, requirePortMapping } from '../../shared/vm';
import { withConnection, type CliContext } from '../context';
import { arg } from '../declare';

export interface PortListOptions {
  readonly vm: string;
  readonly json?: boolean;
}

/** runPortList prints a VM's port forwards. */
export async function runPortList(ctx: CliContext, opts: PortListOptions): Promise<void> {
  const ports = await withConnection(ctx, 'files', (api) => api.call('port.list', { vm: opts.vm }));
  if (opts.json) return ctx.out.json(ports);
  if (ports.length === 0) return ctx.out.line(`VM "${opts.vm}" forwards no ports.`);
  ctx.out.table(['HOST', 'GUEST'], ports.map((p) => [`127.0.0.1:${p.host}`, String(p.guest)]));
}

export interface PortChangeOptions {
  readonly vm: string;
  /** mapping is HOST:GUEST as typed. */
  readonly mapping: string;
}

/** runPortAdd adds a forward, which applies from the VM's next start. */
export async function runPortAdd(ctx: CliContext, opts: PortChangeOptions): Promise<void> {
  const mapping = requirePortMapping(opts.mapping);
  await withConnection(ctx, 'files', (api) => api.call('port.add', { vm: opts.vm, mapping }));
  ctx.out.line(`VM "${opts.vm}" now forwards 127.0.0.1:${mapping.host} to guest port ${mapping.guest} (from its next start).`);
}

/** runPortRemove removes a forward. */
export async function runPortRemove(ctx: CliContext, opts: PortChangeOptions): Promise<void> {
  const mapping = requirePortMapping(opts.mapping);
  await withConnection(ctx, 'files', (api) => api.call('port.remove', { vm: opts.vm, mapping }));
  ctx.out.line(`Removed ${formatPortMapping(mapping)} from VM "${opts.vm}".`);
}

export function registerPortCommands(program: Command, ctx: CliContext): void {
  const port = program.command('port').description('manage port forwards from 127.0.0.1 to a VM');
  port
    .command('list')
    .addArgument(arg('<vm>', 'vm'))
    .option('--json', 'print JSON')
    .action((vm: string, opts: { json?: boolean }) => runPortList(ctx, { ...opts, vm }));
  port
    .command('add')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<host:guest>', 'nothing'))
    .action((vm: string, mapping: string) => runPortAdd(ctx, { vm, mapping }));
  port
    .command('remove')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<host:guest>', 'nothing'))
    .action((vm: string, mapping: string) => runPortRemove(ctx, { vm, mapping }));
}

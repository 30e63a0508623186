// Runs in: plain Node (CLI). `xray port …`: forwards from 127.0.0.1 to a VM,
// changed live while it runs, and which ports its guest listens on.
import type { Command } from 'commander';
import type { GuestListener } from '../../shared/live';
import type { PortMapping } from '../../shared/models';
import { formatPortMapping, requirePortMapping } from '../../shared/vm';
import { withConnection, type CliContext } from '../context';
import { arg } from '../declare';

export interface PortListOptions {
  readonly vm: string;
  readonly json?: boolean;
}

/** PortView is what `port list` shows: the forwards, whether the guest listens behind each, and the guest's listeners (null: not running). */
export interface PortView {
  readonly sshPort: number;
  readonly forwards: readonly (PortMapping & { readonly listening: boolean | null })[];
  readonly listening: readonly GuestListener[] | null;
}

/** portView puts the forwards next to the guest's listeners: a forward carries connections only to a port listening beyond loopback. */
export function portView(sshPort: number, ports: readonly PortMapping[], listening: readonly GuestListener[] | null): PortView {
  const reachable = (guest: number) => listening?.some((l) => l.port === guest && l.reachable) ?? null;
  return { sshPort, forwards: ports.map((p) => ({ ...p, listening: reachable(p.guest) })), listening };
}

function inGuest(listener: GuestListener | undefined): string {
  if (!listener) return 'nothing listening';
  const program = listener.program ? ` (${listener.program})` : '';
  return listener.reachable ? `listening${program}` : `on loopback only${program}: a forward cannot reach it`;
}

/** runPortList prints a VM's forwards and, while it runs, the ports its guest listens on. */
export async function runPortList(ctx: CliContext, opts: PortListOptions): Promise<void> {
  const { out } = ctx;
  const { vm } = opts;
  const view = await withConnection(ctx, { vm }, async (api) => {
    const ports = await api.call('port.list', { vm });
    const sshPort = (await api.call('vm.list', {})).find((v) => v.name === vm)?.sshPort ?? 0;
    const listening = await api.call('port.listening', { vm }).catch((err: Error) => {
      out.warn(err.message);
      return null;
    });
    return portView(sshPort, ports, listening);
  });
  if (opts.json) return out.json(view);
  const listeners = view.listening;
  if (view.forwards.length === 0) out.line(`VM "${vm}" forwards no ports besides SSH (127.0.0.1:${view.sshPort}).`);
  else if (listeners === null) out.table(['HOST', 'GUEST'], view.forwards.map((p) => [`127.0.0.1:${p.host}`, String(p.guest)]));
  else out.table(['HOST', 'GUEST', 'IN GUEST'], view.forwards.map((p) => [`127.0.0.1:${p.host}`, String(p.guest), inGuest(listeners.find((l) => l.port === p.guest))]));
  out.line();
  if (listeners === null) return out.line(out.dim('Which guest ports listen shows while the VM is running.'));
  if (listeners.length === 0) return out.line('Listening in guest: nothing.');
  out.line('Listening in guest:');
  const from = (l: GuestListener) => {
    const hosts = view.forwards.filter((p) => p.guest === l.port).map((p) => `127.0.0.1:${p.host}`);
    if (l.port === 22) hosts.push(`127.0.0.1:${view.sshPort} (SSH)`);
    return hosts.join(', ') || (l.reachable ? '-' : '- (loopback only)');
  };
  out.table(['PORT', 'ADDRESSES', 'PROGRAM', 'FORWARDED FROM'], listeners.map((l) => [String(l.port), l.addresses.join(', '), l.program ?? '-', from(l)]), '  ');
}

export interface PortChangeOptions {
  readonly vm: string;
  /** mapping is HOST:GUEST as typed. */
  readonly mapping: string;
}

/** runPortAdd adds a forward: at once on a running VM, and kept in vm.toml for its next starts. */
export async function runPortAdd(ctx: CliContext, opts: PortChangeOptions): Promise<void> {
  const mapping = requirePortMapping(opts.mapping);
  const { live } = await withConnection(ctx, 'files', (api) => api.call('port.add', { vm: opts.vm, mapping }));
  ctx.out.line(`VM "${opts.vm}" now forwards 127.0.0.1:${mapping.host} to guest port ${mapping.guest}${live ? '' : ' (from its next start)'}.`);
}

/** runPortRemove removes a forward, at once on a running VM. */
export async function runPortRemove(ctx: CliContext, opts: PortChangeOptions): Promise<void> {
  const mapping = requirePortMapping(opts.mapping);
  await withConnection(ctx, 'files', (api) => api.call('port.remove', { vm: opts.vm, mapping }));
  ctx.out.line(`Removed ${formatPortMapping(mapping)} from VM "${opts.vm}".`);
}

export function registerPortCommands(program: Command, ctx: CliContext): void {
  const port = program.command('port').description('manage port forwards from 127.0.0.1 to a VM (live while it runs)');
  port
    .command('list')
    .description("a VM's forwards, and which ports its guest listens on while it runs")
    .addArgument(arg('<vm>', 'vm'))
    .option('--json', 'print JSON')
    .action((vm: string, opts: { json?: boolean }) => runPortList(ctx, { ...opts, vm }));
  port
    .command('add')
    .description('forward 127.0.0.1:HOST to the guest port GUEST, at once on a running VM')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<host:guest>', 'nothing'))
    .action((vm: string, mapping: string) => runPortAdd(ctx, { vm, mapping }));
  port
    .command('remove')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<host:guest>', 'nothing'))
    .action((vm: string, mapping: string) => runPortRemove(ctx, { vm, mapping }));
}

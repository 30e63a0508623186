// Runs in: plain Node (CLI). `xray firewall connections VM`: what a VM has
// open now (where to, how far along, bytes each way, for how long, what
// allowed it), once or followed live with --watch.
import type { Command } from 'commander';
import type { XrayApi } from '../../shared/contract';
import { destinationText, formatBytes, formatDuration } from '../../shared/format';
import { CONNECTIONS_FOLLOW_MS, type OpenConnection } from '../../shared/live';
import { untilInterrupted, withConnection, type CliContext } from '../context';
import { arg } from '../declare';
import type { Output } from '../output';

export interface ConnectionsOptions {
  readonly vm: string;
  readonly json?: boolean;
  readonly watch?: boolean;
}

/** connectionRows are the table's rows: destination, state, bytes up and down, how long it has been open, what allowed it. */
export function connectionRows(connections: readonly OpenConnection[], now: number): string[][] {
  return connections.map((c) => [
    destinationText(c.destination),
    c.state,
    formatBytes(c.bytesUp),
    formatBytes(c.bytesDown),
    formatDuration((now - Date.parse(c.openedAt)) / 1000),
    c.reason ?? '(deciding)',
  ]);
}

function printConnections(out: Output, vm: string, connections: readonly OpenConnection[]): void {
  if (connections.length === 0) return out.line(`VM "${vm}" has no open connections.`);
  out.table(['DESTINATION', 'STATE', 'UP', 'DOWN', 'OPEN FOR', 'ALLOWED BY'], connectionRows(connections, Date.now()));
}

/** runFirewallConnections prints a VM's open connections, or follows them until interrupted (--watch). */
export async function runFirewallConnections(ctx: CliContext, opts: ConnectionsOptions): Promise<void> {
  const { out } = ctx;
  if (!opts.watch) {
    const connections = await withConnection(ctx, { vm: opts.vm }, (api) => api.call('firewall.connections', { vm: opts.vm }));
    return opts.json ? out.json(connections) : printConnections(out, opts.vm, connections);
  }
  await withConnection(ctx, 'supervisor', (api) => watchConnections(ctx, api, opts));
}

/**
 * watchConnections shows the VM's connections each time they change: the
 * table redrawn in place on a terminal, a new one (with the time) on a
 * pipe, or one JSON array a line with --json. It asks to follow again
 * before each lease runs out, so the supervisor keeps announcing.
 */
async function watchConnections(ctx: CliContext, api: XrayApi, opts: ConnectionsOptions): Promise<void> {
  const { out } = ctx;
  const redraw = Boolean(out.stdout.isTTY) && !opts.json;
  const show = (connections: readonly OpenConnection[]) => {
    if (opts.json) return out.line(JSON.stringify(connections));
    if (redraw) out.stdout.write('\x1b[H\x1b[2J');
    out.line(out.dim(`${new Date().toLocaleTimeString()}  VM "${opts.vm}"${redraw ? '  (Ctrl-C to stop)' : ''}`));
    printConnections(out, opts.vm, connections);
    if (!redraw) out.line();
  };
  const stop = api.subscribe((event) => {
    if (event.type === 'firewall.connections' && event.vm === opts.vm) show(event.connections);
  });
  const follow = () => api.call('firewall.connections', { vm: opts.vm, follow: true });
  try {
    show(await follow());
    const renew = setInterval(() => void follow().catch((err: Error) => out.error(err.message)), CONNECTIONS_FOLLOW_MS / 2);
    await untilInterrupted(ctx);
    clearInterval(renew);
  } finally {
    stop();
  }
}

export function registerConnectionsCommand(firewall: Command, ctx: CliContext): void {
  firewall
    .command('connections')
    .description("a VM's open connections: destination, state, bytes up and down, how long, what allowed them")
    .addArgument(arg('<vm>', 'vm'))
    .option('--json', 'print JSON (with --watch, one array a line)')
    .option('-w, --watch', 'follow them live until interrupted')
    .action((vm: string, opts: { json?: boolean; watch?: boolean }) => runFirewallConnections(ctx, { ...opts, vm }));
}

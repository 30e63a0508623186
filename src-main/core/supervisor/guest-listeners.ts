// Runs in: plain Node (core).
import { XrayError } from '../../shared/errors';
import type { GuestListener } from '../../shared/live';
import { canonicalIp } from '../firewall';
import type { SshSession } from '../ssh';
import { parseSsProcess } from './prompt-watch';

/**
 * LISTENERS_COMMAND lists the guest's listening TCP sockets: with their
 * programs where sudo needs no password (`-p` shows other users' programs
 * only to root), else without.
 */
export const LISTENERS_COMMAND = 'sudo -n ss -Htlnp 2>/dev/null || ss -Htln';

/** isLoopback tells a loopback address (127.0.0.0/8, ::1, and 127.x inside IPv6) from one a forward reaches. */
function isLoopback(ip: string): boolean {
  return ip === '::1' || /^(::ffff:)?127\./.test(ip);
}

/**
 * localAddress reads the local column of `ss` ("0.0.0.0:22", "[::]:22",
 * "*:80", "127.0.0.53%lo:53") into an address and a port; null for
 * anything else.
 */
function localAddress(column: string): { address: string; port: number } | null {
  const colon = column.lastIndexOf(':');
  const port = Number(column.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  let host = column.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  if (host.includes('%')) host = host.slice(0, host.indexOf('%'));
  if (host === '*') return { address: '*', port };
  const ip = canonicalIp(host);
  return ip === null ? null : { address: ip, port };
}

/**
 * parseListeners reads `ss -Htln[p]` output (state, queues, local, peer,
 * process) into one listener per port, in port order: the addresses it is
 * bound to (IPv4 and IPv6 sockets of one port together), its program if
 * shown, and whether a forward can reach it.
 */
export function parseListeners(text: string): GuestListener[] {
  const byPort = new Map<number, { addresses: string[]; program: string | null }>();
  for (const line of text.split('\n')) {
    const columns = line.trim().split(/\s+/);
    if (columns[0] !== 'LISTEN' || columns[3] === undefined) continue;
    const local = localAddress(columns[3]);
    if (!local) continue;
    const entry = byPort.get(local.port) ?? { addresses: [], program: null };
    if (!entry.addresses.includes(local.address)) entry.addresses.push(local.address);
    entry.program ??= parseSsProcess(line)?.command ?? null;
    byPort.set(local.port, entry);
  }
  return [...byPort.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, { addresses, program }]) => ({ port, addresses, program, reachable: addresses.some((a) => !isLoopback(a)) }));
}

/** LISTENERS_TIMEOUT_MS bounds the `ss` run in the guest. */
const LISTENERS_TIMEOUT_MS = 10_000;

/** guestListeners asks a guest, over an open session, which TCP ports it listens on. */
export async function guestListeners(vm: string, session: SshSession): Promise<GuestListener[]> {
  let out = '';
  const { code } = await session.exec(LISTENERS_COMMAND, { onStdout: (text) => (out += text), timeoutMs: LISTENERS_TIMEOUT_MS });
  if (code !== 0) throw new XrayError('ssh', `VM "${vm}" could not list its listening ports ("ss" exited with ${code ?? 'no status'}); install iproute2 in the guest.`);
  return parseListeners(out);
}

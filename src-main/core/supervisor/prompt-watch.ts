// Runs in: plain Node (core).
import type { FirewallPrompt, GuestProcess } from '../../shared/models';
import type { PromptBroker } from '../firewall';
import { canonicalIp } from '../firewall';
import type { SshSession } from '../ssh';

/** GuestSocket is one TCP socket of the guest, as `ss -Htnpa` lists it. */
export interface GuestSocket {
  readonly state: string;
  /** peer is the remote end in canonical form, "1.2.3.4:443" or "[2001:db8::1]:443". */
  readonly peer: string;
  readonly process: { readonly pid: number; readonly command: string } | null;
}

/** States in which a guest program is still waiting for its connection. */
const WAITING_STATES: ReadonlySet<string> = new Set(['ESTAB', 'SYN-SENT']);

/** parseSsProcess reads the first process out of `ss -p` text: users:(("curl",pid=812,fd=5)). */
export function parseSsProcess(text: string): { pid: number; command: string } | null {
  const match = /users:\(\("([^"]+)",pid=(\d+),/.exec(text);
  return match ? { command: match[1]!, pid: Number(match[2]) } : null;
}

/** parseSsSockets reads `ss -Htnpa` output (state, queues, local, peer, process) into sockets. */
export function parseSsSockets(text: string): GuestSocket[] {
  const sockets: GuestSocket[] = [];
  for (const line of text.split('\n')) {
    const [state, , , , peer] = line.trim().split(/\s+/);
    if (!state || !peer) continue;
    const colon = peer.lastIndexOf(':');
    const host = peer.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const ip = canonicalIp(host.includes('%') ? host.slice(0, host.indexOf('%')) : host);
    const port = peer.slice(colon + 1);
    if (colon < 0 || ip === null || !/^\d+$/.test(port)) continue;
    sockets.push({ state, peer: endpoint(ip, Number(port)), process: parseSsProcess(line) });
  }
  return sockets;
}

function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export interface PromptWatchOptions {
  readonly broker: PromptBroker;
  /** reachable says whether Xray can log in to the VM now (it is ready). */
  readonly reachable: (vm: string) => boolean;
  /** openSession logs in to the VM. */
  readonly openSession: (vm: string) => Promise<SshSession>;
  readonly intervalMs?: number;
  readonly commandTimeoutMs?: number;
}

const SOCKETS_COMMAND = 'sudo -n ss -Htnpa';

/**
 * PromptWatch looks inside a guest, over SSH and only while the VM has open
 * prompts, at the sockets behind them. The guest's socket still names the
 * original destination (redsocks redirects by NAT), so it is found by
 * address and port. It names the program that opened the connection on the
 * prompt, and closes a prompt as abandoned once the guest no longer has a
 * connection it was seen holding: the program gave up (curl timed out, a
 * user pressed Ctrl-C), and nothing is left to decide. The host's side
 * cannot see that for itself, because each guest connection reaches the
 * proxy through a `nc -U` that keeps its socket open after the guest hangs up.
 *
 * One SSH session per VM is kept while prompts are open and one `ss` per
 * interval answers for all of them. A guest that refuses (no sudo, no ss)
 * simply gets no names and no early closing: prompts still time out.
 */
export class PromptWatch {
  private readonly watching = new Set<string>();
  private readonly seen = new Set<string>();
  private readonly intervalMs: number;
  private readonly commandTimeoutMs: number;
  private stopped = false;

  constructor(private readonly options: PromptWatchOptions) {
    this.intervalMs = options.intervalMs ?? 2000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 10_000;
  }

  /** promptOpened starts watching the prompt's VM, unless it already is watched. */
  promptOpened(prompt: FirewallPrompt): void {
    this.follow(prompt.vm);
  }

  /**
   * follow starts watching a VM unless a watch runs. A watch that is just
   * ending (it saw no open prompt) may miss one opened meanwhile, so on its
   * way out it looks again and starts over if there is one.
   */
  private follow(vm: string): void {
    if (this.stopped || this.watching.has(vm) || !this.options.reachable(vm)) return;
    this.watching.add(vm);
    void this.watch(vm).then((ended) => {
      this.watching.delete(vm);
      if (ended === 'idle' && this.open(vm).length > 0) this.follow(vm);
    });
  }

  /** stop ends every watch after its current round. */
  stop(): void {
    this.stopped = true;
  }

  private open(vm: string): FirewallPrompt[] {
    return this.options.broker.list(vm).filter((p) => p.destination.ip !== null);
  }

  /** watch follows a VM's open prompts until there are none ('idle') or the guest cannot tell ('gave-up'). */
  private async watch(vm: string): Promise<'idle' | 'gave-up'> {
    let session: SshSession | null = null;
    try {
      session = await this.options.openSession(vm);
      while (!this.stopped && this.open(vm).length > 0 && this.options.reachable(vm)) {
        const sockets = await this.sockets(session);
        if (sockets === null) return 'gave-up';
        await this.review(vm, session, sockets);
        await new Promise((resolve) => setTimeout(resolve, this.intervalMs).unref());
      }
      return 'idle';
    } catch {
      // Names and early closing are extras: the prompt works and times out without them.
      return 'gave-up';
    } finally {
      session?.close();
      for (const id of [...this.seen]) if (!this.options.broker.list().some((p) => p.id === id)) this.seen.delete(id);
    }
  }

  private async sockets(session: SshSession): Promise<GuestSocket[] | null> {
    let out = '';
    const { code } = await session.exec(SOCKETS_COMMAND, { onStdout: (t) => (out += t), timeoutMs: this.commandTimeoutMs });
    return code === 0 ? parseSsSockets(out) : null;
  }

  private async review(vm: string, session: SshSession, sockets: readonly GuestSocket[]): Promise<void> {
    for (const prompt of this.open(vm)) {
      const peer = endpoint(prompt.destination.ip as string, prompt.destination.port);
      const holding = sockets.filter((s) => s.peer === peer && WAITING_STATES.has(s.state));
      if (holding.length > 0) {
        this.seen.add(prompt.id);
        const owner = holding.find((s) => s.process !== null)?.process;
        if (owner && prompt.guestProcess === null) this.options.broker.setGuestProcess(prompt.id, await this.describe(session, owner));
      } else if (this.seen.delete(prompt.id)) {
        this.options.broker.abandon(prompt.id);
      }
    }
  }

  /** describe adds the user and the whole command line to what ss says of a process. */
  private async describe(session: SshSession, owner: { pid: number; command: string }): Promise<GuestProcess> {
    let out = '';
    await session.exec(`ps -o user= -o args= -p ${owner.pid}`, { onStdout: (t) => (out += t), timeoutMs: this.commandTimeoutMs });
    const match = /^(\S+)\s+(.*)$/.exec(out.trim());
    return { pid: owner.pid, command: match?.[2] ?? owner.command, user: match?.[1] ?? null };
  }
}

// Runs in: plain Node (core).
import type { XrayEvent } from '../../shared/contract';
import { CONNECTIONS_FOLLOW_MS, CONNECTIONS_INTERVAL_MS, type OpenConnection } from '../../shared/live';

export interface ConnectionFeedOptions {
  /** connections are a VM's open connections now, or null when its firewall does not run. */
  readonly connections: (vm: string) => OpenConnection[] | null;
  readonly emit: (event: XrayEvent) => void;
  // For testing: the pace and the clock.
  readonly intervalMs?: number;
  readonly followMs?: number;
  readonly now?: () => number;
}

interface Followed {
  until: number;
  /** last is what the followers have now: the list the call answered, or the last announced. */
  last: readonly OpenConnection[];
}

/**
 * ConnectionFeed announces the open connections of the VMs someone
 * follows, as `firewall.connections` events: at most once an interval per
 * VM, and only when something changed (a connection came or went, moved on,
 * or carried bytes). Following is asked for by `firewall.connections` with
 * `follow` and lasts CONNECTIONS_FOLLOW_MS from the last such call, so a
 * window that closes or a CLI that dies stops the feed without having to
 * say so, whatever transport it used; while nobody follows, nothing runs.
 * Each announcement is one walk over the VM's open sockets: the relays
 * themselves count nothing and send nothing per chunk.
 */
export class ConnectionFeed {
  private readonly followed = new Map<string, Followed>();
  private readonly intervalMs: number;
  private readonly followMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: ConnectionFeedOptions) {
    this.intervalMs = options.intervalMs ?? CONNECTIONS_INTERVAL_MS;
    this.followMs = options.followMs ?? CONNECTIONS_FOLLOW_MS;
    this.now = options.now ?? Date.now;
  }

  /**
   * follow keeps a VM's connections announced for a while; `answered` is
   * what the caller just got. Someone already following keeps the list
   * announced last, so a change since then still reaches them.
   */
  follow(vm: string, answered: readonly OpenConnection[]): void {
    const until = this.now() + this.followMs;
    const current = this.followed.get(vm);
    if (current) current.until = until;
    else this.followed.set(vm, { until, last: answered });
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** tick announces each followed VM's connections that changed, lets go of those nobody follows any more, and stops when none is left. */
  tick(): void {
    const now = this.now();
    for (const [vm, followed] of this.followed) {
      if (followed.until <= now) {
        this.followed.delete(vm);
        continue;
      }
      const connections = this.options.connections(vm) ?? [];
      if (sameConnections(followed.last, connections)) continue;
      followed.last = connections;
      this.options.emit({ type: 'firewall.connections', vm, connections });
    }
    if (this.followed.size === 0) this.close();
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/** sameConnections tells whether two lists show the same thing: the same connections, in the same states, with the same bytes and decisions. */
function sameConnections(a: readonly OpenConnection[], b: readonly OpenConnection[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.id !== y.id || x.state !== y.state || x.bytesUp !== y.bytesUp || x.bytesDown !== y.bytesDown || x.reason !== y.reason) return false;
  }
  return true;
}

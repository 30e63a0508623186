// Runs in: plain Node (core). The connection log entry a relay writes when an
// allowed connection closes.
import type { Socket } from 'node:net';
import type { FirewallLogEntry } from '../../shared/models';
import type { InterceptSummary } from './intercept';
import type { Route } from './socks5-relay-types';

/**
 * ClosedConnection is what a relay knows of an allowed connection once both
 * its sockets closed: the upstream is null when the interceptor held it, and
 * the summary is the interceptor's, if it served the connection.
 */
export interface ClosedConnection {
  readonly vm: string;
  readonly route: Route;
  readonly client: Socket;
  readonly upstream: Socket | null;
  readonly summary: InterceptSummary | null;
  /** reason is why the connection ended early, or null when both sides ended normally. */
  readonly reason: string | null;
  /** started is when the connection was allowed (ms since the epoch). */
  readonly started: number;
}

/**
 * connectionEntry is an allowed connection's `connection` log entry: its
 * bytes as the upstream counted them, or as the client did when the
 * interceptor held the upstream, and the interceptor's summary as its reason.
 */
export function connectionEntry(closed: ClosedConnection): FirewallLogEntry {
  const { upstream, client, summary } = closed;
  const reason = summary ? interceptedReason(summary) : closed.reason;
  return {
    at: new Date().toISOString(),
    vm: closed.vm,
    kind: 'connection',
    destination: closed.route.destination,
    action: 'allow',
    ...(reason !== null ? { reason } : {}),
    bytesUp: upstream ? upstream.bytesWritten : client.bytesRead,
    bytesDown: upstream ? upstream.bytesRead : client.bytesWritten,
    durationMs: Date.now() - closed.started,
  };
}

/** interceptedReason is an intercepted connection's log reason: what was spoken, how many requests, how many refused, and why it ended early. */
function interceptedReason(summary: InterceptSummary): string {
  const spoken = summary.protocol === null ? 'intercepted' : `intercepted (${summary.protocol})`;
  const counts = `${summary.requests} request${summary.requests === 1 ? '' : 's'}, ${summary.refused} refused`;
  return summary.failure === null ? `${spoken}: ${counts}` : `${spoken}: ${counts}; ${summary.failure}`;
}

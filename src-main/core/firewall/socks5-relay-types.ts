// Runs in: plain Node (core). What a relay works with: its states, the route
// an allowed connection takes, when the client hears success, and the
// settings every relay of a server shares.
import type { Socket, TcpNetConnectOpts } from 'node:net';
import type { Destination, FirewallLogEntry } from '../../shared/models';
import type { InterceptSummary } from './intercept';

/**
 * RelayState is where one client connection is, from its request to its end:
 *  - deciding: the request is held while the firewall decides;
 *  - sniffing: answered with success, reading the client's first bytes for a
 *    name and deciding on them;
 *  - connecting: allowed; the upstream connection is being made;
 *  - relaying: bytes flow both ways;
 *  - intercepted: allowed, and its TLS is the egress interceptor's (see
 *    intercept.ts), which makes the upstream connection itself;
 *  - closing: finish() ran; waiting for both sockets to close;
 *  - closed: both closed, and an allowed connection was logged.
 */
export type RelayState = 'deciding' | 'sniffing' | 'connecting' | 'relaying' | 'intercepted' | 'closing' | 'closed';

/**
 * Interception is how an allowed connection's requests are decided when its
 * host has a secret bound to it or HTTP rules: a request no HTTP rule covers
 * is let through (`allow`, a host rule allowed the connection) or asked
 * about (`ask`, only HTTP rules let it in). A connection that turns out not
 * to speak TLS is relayed untouched in the first case and refused in the
 * second, since its requests cannot be read.
 */
export interface Interception {
  readonly unmatched: 'allow' | 'ask';
}

/**
 * Route is where an allowed connection goes, the destination its log entry
 * shows, whether it is intercepted, and what allowed it (the decision's
 * reason and rule, which the open-connections view shows).
 */
export interface Route {
  readonly to: { readonly host: string; readonly port: number };
  readonly destination: Destination;
  readonly intercept?: Interception;
  readonly reason?: string;
  readonly rule?: string | null;
}

/** InterceptHandler serves an intercepted connection (the client after its success reply, and its first bytes) until it ends. */
export type InterceptHandler = (client: Socket, firstBytes: Buffer, route: Route & { readonly intercept: Interception }) => Promise<InterceptSummary>;

/**
 * ReplyTiming is when the client hears success: once connected, so each
 * failure gets its reply code, or before connecting, which saves the client
 * a wait but turns a failure into a reset. A sniffed connection was answered
 * before its first bytes, whatever this says.
 */
export type ReplyTiming = 'once-connected' | 'before-connecting';

/** RelayOptions are the server's settings every relay shares. */
export interface RelayOptions {
  readonly vm: string;
  readonly connectUpstream: (options: TcpNetConnectOpts) => Socket;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly sniffTimeoutMs: number;
  readonly sniffBytes: number;
  /** onClosed receives one `connection` log entry per allowed connection. */
  readonly onClosed?: (entry: FirewallLogEntry) => void;
  /** intercept serves routes marked for interception; without it they are relayed untouched. */
  readonly intercept?: InterceptHandler;
}

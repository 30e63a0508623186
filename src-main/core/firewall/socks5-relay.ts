// Runs in: plain Node (core).
import type { Socket } from 'node:net';
import type { OpenConnection } from '../../shared/live';
import type { Destination } from '../../shared/models';
import type { ClientReader } from './client-reader';
import type { InterceptSummary } from './intercept';
import { ReadSlab } from './read-slab';
import { looksLikeTls } from './sniff';
import { forwardDown, forwardUp } from './socks5-forward';
import { abort, refuse } from './socks5-handshake';
import { connectionEntry } from './socks5-relay-log';
import type { Interception, RelayOptions, RelayState, ReplyTiming, Route } from './socks5-relay-types';
import { readFirstBytes } from './socks5-sniff';
import { REPLY, SUCCESS_REPLY, replyBytes, replyForError } from './socks5-wire';

/**
 * Relay is one client connection after its handshake. Every way a
 * connection ends (a refusal, a failed or timed-out connect, a denial after
 * sniffing, an idle timeout, either side closing or resetting, or both
 * sides ending normally) goes through finish(), which closes what is left
 * and, once both sockets are closed, logs an allowed connection exactly once.
 *
 * Client to upstream, bytes are forwarded from the moment the connection is
 * allowed (see forwardUp): Node queues them until the upstream connects, so
 * a request that follows the reply costs no extra turn of the event loop.
 * Upstream to client, the direction downloads take, reads go into growing
 * slabs (see ReadSlab) and each read is written on as it is, pausing
 * upstream while the client is behind. Each side's end is passed on, so
 * half-close works both ways.
 */
export class Relay {
  private current: RelayState = 'deciding';
  private answered = false;
  private upstream: Socket | null = null;
  private route: Route | null = null;
  private openSockets = 1;
  private reason: string | null = null;
  private started = 0;
  private connectTimer: NodeJS.Timeout | undefined;
  private stopSniffing: (() => void) | null = null;
  private summary: InterceptSummary | null = null;
  private readonly openedAt = Date.now();
  private onSettled: (() => void) | null = null;
  private readonly client: Socket;

  /**
   * `id` tells the connection apart in the open-connections view, and
   * `requested` is where the client asked to go, shown until a decision
   * names the destination. `reader` reads the client (see ClientReader).
   */
  constructor(
    private readonly reader: ClientReader,
    private readonly options: RelayOptions,
    readonly id: number,
    private readonly requested: Destination,
  ) {
    const client = reader.socket;
    this.client = client;
    client.on('error', (err: NodeJS.ErrnoException) => this.finish(`client: ${err.code ?? err.message}`));
    client.once('close', () => {
      this.openSockets -= 1;
      // An intercepted connection ends when the interceptor says how it went.
      if (this.current !== 'intercepted') this.finish(this.bothEnded() ? null : 'client closed');
      this.settle();
    });
  }

  /** settled resolves once the relay is closed and its connection logged (see settle). */
  settled(): Promise<void> {
    if (this.current === 'closed') return Promise.resolve();
    return new Promise((resolve) => (this.onSettled = resolve));
  }

  /** state is where the connection is; the server checks it when a decision comes back. */
  get state(): RelayState {
    return this.current;
  }

  /**
   * snapshot is the connection as the open-connections view shows it, or
   * null once it is ending. Bytes are read from the sockets' own counters
   * when asked, so relaying counts nothing: the upstream's, or the client's
   * while the interceptor holds the upstream connection itself.
   */
  snapshot(): OpenConnection | null {
    const state = this.current;
    if (state === 'closing' || state === 'closed') return null;
    const { upstream, client, route } = this;
    const intercepted = state === 'intercepted';
    return {
      id: this.id,
      destination: route?.destination ?? this.requested,
      state,
      bytesUp: (upstream ? upstream.bytesWritten : intercepted ? client.bytesRead : 0) ?? 0,
      bytesDown: (upstream ? upstream.bytesRead : intercepted ? client.bytesWritten : 0) ?? 0,
      openedAt: new Date(this.openedAt).toISOString(),
      reason: route?.reason ?? null,
      rule: route?.rule ?? null,
    };
  }

  /**
   * sniff answers success, reads the client's first bytes (see
   * readFirstBytes) and asks `decide` about them: null is a denial, which
   * resets the client, since it was told the connection exists.
   */
  sniff(early: Buffer, port: number, decide: (firstBytes: Buffer) => Promise<Route | null>): void {
    if (this.leftWhileDeciding()) return;
    this.move('sniffing', ['deciding']);
    this.answer();
    const limits = { port, maxBytes: this.options.sniffBytes, timeoutMs: this.options.sniffTimeoutMs };
    this.stopSniffing = readFirstBytes(this.reader, early, limits, (firstBytes) => {
      this.stopSniffing = null;
      void decide(firstBytes).then((route) => {
        if (this.current !== 'sniffing') return;
        if (route === null) this.finish('denied after sniffing');
        else this.connect(route, firstBytes, 'before-connecting');
      });
    });
  }

  /**
   * connect dials the route, answers the client when `reply` says, sends
   * `pending` and relays both ways; a route marked for interception goes to
   * intercept() instead.
   */
  connect(route: Route, pending: Buffer, reply: ReplyTiming): void {
    if (this.leftWhileDeciding()) return;
    const { intercept } = route;
    if (intercept && this.options.intercept) {
      if (this.current === 'sniffing') this.intercept({ ...route, intercept }, pending);
      else this.sniff(pending, route.destination.port, async () => route);
      return;
    }
    this.dial(route, pending, reply);
  }

  /**
   * intercept hands a TLS connection, with its first bytes, to the
   * interceptor, and ends the relay with its summary. A connection that
   * does not begin TLS is relayed as it is when its requests need no rule,
   * and refused when they do.
   */
  private intercept(route: Route & { readonly intercept: Interception }, firstBytes: Buffer): void {
    const handler = this.options.intercept;
    if (!looksLikeTls(firstBytes) || !handler) {
      if (route.intercept.unmatched === 'allow') this.dial(route, firstBytes, 'before-connecting');
      else this.finish('it did not begin TLS, and only HTTP rules allow this host, which need TLS to read its requests');
      return;
    }
    this.move('intercepted', ['sniffing']);
    this.route = route;
    this.started = Date.now();
    this.openSockets += 1;
    this.reader.toStream();
    handler(this.client, firstBytes, route).then(
      (summary) => this.intercepted(summary),
      (err: Error) => this.intercepted({ protocol: null, requests: 0, refused: 0, failure: `interception failed: ${err.message}` }),
    );
  }

  /** intercepted ends an intercepted connection with the interceptor's summary. */
  private intercepted(summary: InterceptSummary): void {
    this.summary = summary;
    this.openSockets -= 1;
    this.finish(summary.failure);
    this.settle();
  }

  /** dial connects to the route and relays both ways; see connect. */
  private dial(route: Route, pending: Buffer, reply: ReplyTiming): void {
    this.move('connecting', ['deciding', 'sniffing']);
    this.route = route;
    this.started = Date.now();
    // Answered first: the client's next bytes then travel while the connection is made.
    if (reply === 'before-connecting') this.answer();
    const slab = new ReadSlab();
    const upstream = this.options.connectUpstream({
      host: route.to.host,
      port: route.to.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: { buffer: () => slab.room(), callback: (bytes) => forwardDown(this.client, upstream, slab, bytes) },
    });
    this.upstream = upstream;
    this.openSockets += 1;
    this.connectTimer = setTimeout(() => this.finish('connect timed out', REPLY.ttlExpired), this.options.connectTimeoutMs);
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? err.message;
      if (this.current === 'connecting') this.finish(`connect failed: ${code}`, replyForError(err.code));
      else this.finish(`upstream: ${code}`);
    });
    upstream.once('connect', () => this.connected());
    upstream.once('end', () => this.client.end());
    upstream.once('close', () => {
      this.openSockets -= 1;
      this.finish(this.bothEnded() ? null : 'upstream closed');
      this.settle();
    });
    if (pending.length > 0) upstream.write(pending);
    forwardUp(this.reader, upstream);
  }

  /**
   * finish ends the connection, whatever ended it, once; `reason` is null
   * when both sides ended their streams, and `reply` is what a client still
   * waiting for its reply gets (see turnAway).
   */
  finish(reason: string | null, reply: number = REPLY.generalFailure): void {
    if (this.current === 'closing' || this.current === 'closed') return;
    const was = this.current;
    this.move('closing', ['deciding', 'sniffing', 'connecting', 'relaying', 'intercepted']);
    this.reason = reason;
    clearTimeout(this.connectTimer);
    this.stopSniffing?.();
    if (reason !== null) {
      if (!this.client.destroyed) this.turnAway(was, reply);
      this.upstream?.destroy();
    }
    this.settle();
  }

  /** move changes state; a move the life cycle does not allow is a bug, and throws. */
  private move(to: RelayState, from: readonly RelayState[]): void {
    if (!from.includes(this.current)) throw new Error(`a relay cannot go from ${this.current} to ${to}`);
    this.current = to;
  }

  /**
   * bothEnded tells a normal end from a reset: each side's stream was ended
   * because the other side ended its own. A socket that closes otherwise was
   * reset, timed out or went away, and takes the other with it.
   */
  private bothEnded(): boolean {
    return this.client.writableEnded && this.upstream !== null && this.upstream.writableEnded;
  }

  /**
   * turnAway closes a client that did not end normally: with `reply` while
   * it waits for one, with a reset while its connection was promised but
   * never carried a byte, and plainly once bytes have flowed.
   */
  private turnAway(was: RelayState, reply: number): void {
    if (!this.answered) refuse(this.client, replyBytes(reply));
    else if (was === 'relaying' || was === 'intercepted') this.client.destroy();
    else abort(this.client);
  }

  /**
   * leftWhileDeciding finishes a relay whose client was closed (by close(),
   * a timeout or an error) before the decision came: its 'close' event may
   * still be on its way, and nothing is dialled for it.
   */
  private leftWhileDeciding(): boolean {
    if (!this.client.destroyed) return false;
    this.finish('client closed');
    return true;
  }

  /** answer sends the success reply, once. */
  private answer(): void {
    if (this.answered) return;
    this.answered = true;
    this.client.write(SUCCESS_REPLY);
  }

  /** connected starts relaying: the reply if still owed, and the idle timeout, which the client's traffic either way resets. */
  private connected(): void {
    clearTimeout(this.connectTimer);
    this.move('relaying', ['connecting']);
    this.answer();
    this.client.setTimeout(this.options.idleTimeoutMs, () => this.finish('idle timeout'));
  }

  /**
   * settle marks the relay closed once finish() ran, both sockets closed and
   * an interceptor (if any) reported, and logs an allowed connection (see
   * connectionEntry).
   */
  private settle(): void {
    if (this.current !== 'closing' || this.openSockets > 0) return;
    this.move('closed', ['closing']);
    this.onSettled?.();
    const { client, upstream, route, summary, reason, started } = this;
    if (route === null || (upstream === null && summary === null)) return;
    this.options.onClosed?.(connectionEntry({ vm: this.options.vm, route, client, upstream, summary, reason, started }));
  }
}

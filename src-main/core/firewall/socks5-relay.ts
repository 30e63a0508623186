// Runs in: plain Node (core).
import type { Socket, TcpNetConnectOpts } from 'node:net';
import type { Destination, FirewallLogEntry } from '../../shared/models';
import { ReadSlab } from './read-slab';
import { abort, refuse } from './socks5-handshake';
import { readFirstBytes } from './socks5-sniff';
import { REPLY, SUCCESS_REPLY, replyBytes, replyForError } from './socks5-wire';

/**
 * RelayState is where one client connection is, from its request to its end:
 *  - deciding: the request is held while the firewall decides;
 *  - sniffing: answered with success, reading the client's first bytes for a
 *    name and deciding on them;
 *  - connecting: allowed; the upstream connection is being made;
 *  - relaying: bytes flow both ways;
 *  - closing: finish() ran; waiting for both sockets to close;
 *  - closed: both closed, and an allowed connection was logged.
 */
export type RelayState = 'deciding' | 'sniffing' | 'connecting' | 'relaying' | 'closing' | 'closed';

/** Route is where an allowed connection goes, and the destination its log entry shows. */
export interface Route {
  readonly to: { readonly host: string; readonly port: number };
  readonly destination: Destination;
}

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
}

/** UPLOAD_QUEUE_BYTES is how much may wait to be written upstream before the client is paused. */
const UPLOAD_QUEUE_BYTES = 1024 * 1024;

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
 * Upstream to client, the direction
 * downloads take, reads go into growing slabs (see ReadSlab) and each read
 * is written on as it is, pausing upstream while the client is behind. Each
 * side's end is passed on, so half-close works both ways.
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

  constructor(
    private readonly client: Socket,
    private readonly options: RelayOptions,
  ) {
    client.on('error', (err: NodeJS.ErrnoException) => this.finish(`client: ${err.code ?? err.message}`));
    client.once('close', () => {
      this.openSockets -= 1;
      this.finish(this.bothEnded() ? null : 'client closed');
      this.settle();
    });
  }

  /** state is where the connection is; the server checks it when a decision comes back. */
  get state(): RelayState {
    return this.current;
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
    this.stopSniffing = readFirstBytes(this.client, early, limits, (firstBytes) => {
      this.stopSniffing = null;
      void decide(firstBytes).then((route) => {
        if (this.current !== 'sniffing') return;
        if (route === null) this.finish('denied after sniffing');
        else this.connect(route, firstBytes, 'before-connecting');
      });
    });
  }

  /** connect dials the route, answers the client when `reply` says, sends `pending` and relays both ways. */
  connect(route: Route, pending: Buffer, reply: ReplyTiming): void {
    if (this.leftWhileDeciding()) return;
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
      onread: { buffer: () => slab.room(), callback: (bytes) => this.forwardDown(upstream, slab, bytes) },
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
    this.forwardUp(upstream);
  }

  /**
   * finish ends the connection, whatever ended it, once; `reason` is null
   * when both sides ended their streams, and `reply` is what a client still
   * waiting for its reply gets (see turnAway).
   */
  finish(reason: string | null, reply: number = REPLY.generalFailure): void {
    if (this.current === 'closing' || this.current === 'closed') return;
    const was = this.current;
    this.move('closing', ['deciding', 'sniffing', 'connecting', 'relaying']);
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
    else if (was === 'relaying') this.client.destroy();
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
   * forwardUp passes the client's bytes and its end to the upstream. Each
   * read is written on at once, so the upstream is sending while the client
   * is still being read; the client is paused only while more than
   * UPLOAD_QUEUE_BYTES wait to be written. (A pipe() pauses and resumes the
   * client around every read, as Node reads an accepted socket 64 KiB at a
   * time and a pipe holds back at 16 KiB.)
   */
  private forwardUp(upstream: Socket): void {
    const client = this.client;
    const resume = (): void => {
      client.resume();
    };
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      if (upstream.writableLength > UPLOAD_QUEUE_BYTES) {
        client.pause();
        upstream.once('drain', resume);
      }
    });
    if (client.readableEnded) upstream.end();
    else client.once('end', () => upstream.end());
    client.resume();
  }

  /** forwardDown writes one upstream read to the client; false pauses the upstream until the client drains. */
  private forwardDown(upstream: Socket, slab: ReadSlab, bytes: number): boolean {
    if (this.client.destroyed) return false;
    const chunk = slab.take(bytes);
    if (this.client.write(chunk, () => slab.written(chunk))) return true;
    this.client.once('drain', () => upstream.resume());
    return false;
  }

  /** settle marks the relay closed once finish() ran and both sockets closed, and logs an allowed connection. */
  private settle(): void {
    if (this.current !== 'closing' || this.openSockets > 0) return;
    this.move('closed', ['closing']);
    const { upstream, route } = this;
    if (upstream === null || route === null) return;
    this.options.onClosed?.({
      at: new Date().toISOString(),
      vm: this.options.vm,
      kind: 'connection',
      destination: route.destination,
      action: 'allow',
      ...(this.reason !== null ? { reason: this.reason } : {}),
      bytesUp: upstream.bytesWritten,
      bytesDown: upstream.bytesRead,
      durationMs: Date.now() - this.started,
    });
  }
}

// Runs in: plain Node (core).
import { unlink } from 'node:fs/promises';
import { type Server, type Socket, type TcpNetConnectOpts, connect, createServer } from 'node:net';
import type { Destination, FirewallLogEntry, RuleAction } from '../../shared/models';
import { canonicalIp, normalizeHostname } from './address';
import { openListeners } from './listen';
import { ReadSlab } from './read-slab';
import { SERVER_SPEAKS_FIRST, serviceName } from './services';
import { httpHeadComplete, looksLikeHttp, looksLikeTls, parseHttpHost, parseTlsSni, tlsHelloComplete } from './sniff';

/** Reply codes of RFC 1928 section 6. */
export const REPLY = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

export interface ConnectRequest {
  readonly vm: string;
  readonly destination: Destination;
  /** firstBytes are what the client sent before the decision (IP targets decided after sniffing). */
  readonly firstBytes?: Buffer;
}

export interface ConnectDecision {
  readonly action: RuleAction;
  readonly reason: string;
  /** connectTo overrides where to connect (a resolved address, or the host for host.xray.internal). */
  readonly connectTo?: { readonly host: string; readonly port: number };
  /** destination is the connection as the decider identified it (resolved, named); the connection log shows it. */
  readonly destination?: Destination;
}

export interface Socks5ServerOptions {
  readonly vm: string;
  /** socketPath is the VM's proxy.sock (created with mode 0600). */
  readonly socketPath?: string;
  /** tcpPort, when set, also listens on 127.0.0.1 (0 picks a free port); for tests. */
  readonly tcpPort?: number;
  readonly decide: (request: ConnectRequest) => Promise<ConnectDecision>;
  /**
   * decideByAddress, when set, is asked about an IP target before anything
   * is read from the client; null means it needs the client's first bytes
   * (a name) to decide, and `decide` is asked after sniffing instead.
   */
  readonly decideByAddress?: (request: ConnectRequest) => Promise<ConnectDecision | null>;
  /** onConnectionClosed receives one `connection` log entry per allowed connection. */
  readonly onConnectionClosed?: (entry: FirewallLogEntry) => void;
  readonly handshakeTimeoutMs?: number;
  readonly sniffTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /** sniffBytes caps what is buffered from the client to find a name. */
  readonly sniffBytes?: number;
  /** connectUpstream opens the outbound connection; tests replace it. */
  readonly connectUpstream?: (options: TcpNetConnectOpts) => Socket;
}

/** Reply is when a relay sends the success reply: after connecting, while connecting, or never (already sent). */
type Reply = 'once-connected' | 'while-connecting' | 'sent';

/** The largest greeting or request RFC 1928 allows is 262 bytes. */
const HANDSHAKE_CAP = 600;

const SUCCESS_REPLY = Buffer.from([0x05, REPLY.succeeded, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
const NO_AUTH = Buffer.from([0x05, 0x00]);
const NO_ACCEPTABLE_METHOD = Buffer.from([0x05, 0xff]);

function failureReply(code: number): Buffer {
  return Buffer.from([0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
}

/** refuse sends a final reply and closes; a client that never closes its side is not waited for. */
function refuse(client: Socket, reply: Buffer): void {
  client.end(reply, () => client.destroy());
}

interface ParsedRequest {
  readonly command: number;
  readonly host: string | null;
  readonly port: number;
  readonly isDomain: boolean;
  readonly consumed: number;
}

type RequestParse = ParsedRequest | { readonly reply: number } | 'incomplete' | 'malformed';

/** parseRequest reads a SOCKS5 request from the start of `buf`. */
function parseRequest(buf: Buffer): RequestParse {
  if (buf.length < 4) return 'incomplete';
  if (buf[0] !== 0x05 || buf[2] !== 0x00) return 'malformed';
  const command = buf[1] ?? 0;
  const type = buf[3];
  let host: string | null;
  let end: number;
  if (type === 0x01) {
    end = 4 + 4;
    if (buf.length < end + 2) return 'incomplete';
    host = `${buf[4]}.${buf[5]}.${buf[6]}.${buf[7]}`;
  } else if (type === 0x04) {
    end = 4 + 16;
    if (buf.length < end + 2) return 'incomplete';
    const groups: string[] = [];
    for (let i = 4; i < end; i += 2) groups.push(buf.readUInt16BE(i).toString(16));
    host = canonicalIp(groups.join(':'));
  } else if (type === 0x03) {
    if (buf.length < 5) return 'incomplete';
    end = 5 + (buf[4] ?? 0);
    if (buf.length < end + 2) return 'incomplete';
    const raw = buf.toString('latin1', 5, end);
    host = canonicalIp(raw) ?? normalizeHostname(raw);
  } else {
    return { reply: REPLY.addressTypeNotSupported };
  }
  const port = buf.readUInt16BE(end);
  return { command, host, port, isDomain: type === 0x03, consumed: end + 2 };
}

/**
 * abort ends a connection whose SOCKS reply was already sent: a TCP reset
 * where the client came over TCP, a plain close on the VM's Unix socket (Node
 * cannot reset a pipe and throws if asked to).
 */
function abort(client: Socket): void {
  if (client.remoteAddress !== undefined) client.resetAndDestroy();
  else client.destroy();
}

/**
 * Socks5Server is a VM's egress proxy: RFC 1928 CONNECT with IPv4, IPv6 and
 * domain targets, no authentication (the socket is private to the user and
 * reached only by this VM's QEMU). Every CONNECT is decided (by
 * `decideByAddress` or `decide`) before anything reaches the outside.
 *
 * Domain targets are decided, then connected, then answered, so every
 * failure gets its proper reply code.
 *
 * Learning names. The guest's redsocks always asks for bare IPs. When
 * `decideByAddress` can settle an IP target from its address (a rule on the
 * address or on the name the VM's DNS lookups gave it), the server acts on
 * that at once: 0x02 for a denial, or success and connect. Otherwise it
 * needs a name, and a client sends its first bytes only after the success
 * reply: so the server replies success, reads the client's first bytes
 * (bounded in size and time; protocols where the server speaks first send
 * none, and known ones are not waited for), takes the TLS SNI or HTTP Host
 * from them, then decides, connects and forwards the buffered bytes. Either
 * way an IP target is answered before its connection exists, so a denial
 * after sniffing, or a destination that cannot be reached, shows as a reset
 * ("connection reset") rather than a reply code.
 *
 * Each connection is bounded: a handshake cap and timeout, a sniff cap and
 * timeout, a connect timeout, an idle timeout, and read buffers of at most
 * 1 MiB; the relay keeps backpressure and half-close both ways. Bad input
 * closes only the connection it came on.
 */
export class Socks5Server {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private tcpAddress: number | null = null;
  private readonly handshakeTimeoutMs: number;
  private readonly sniffTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly sniffBytes: number;
  private readonly connectUpstream: (options: TcpNetConnectOpts) => Socket;

  constructor(private readonly options: Socks5ServerOptions) {
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.sniffTimeoutMs = options.sniffTimeoutMs ?? 750;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 2 * 60 * 60 * 1000;
    this.sniffBytes = options.sniffBytes ?? 16 * 1024;
    this.connectUpstream = options.connectUpstream ?? connect;
  }

  get tcpPort(): number | null {
    return this.tcpAddress;
  }

  /** connectionCount is how many client connections are open (handshaking, held or relaying). */
  get connectionCount(): number {
    return this.sockets.size;
  }

  async listen(): Promise<void> {
    const opened = await openListeners(this.options, () => this.createServer());
    this.servers.push(...opened.servers);
    this.tcpAddress = opened.tcpPort;
  }

  /** close stops listening and closes every open connection; returns how many were open. */
  async close(): Promise<number> {
    const open = this.sockets.size;
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.servers.length = 0;
    if (this.options.socketPath) await unlink(this.options.socketPath).catch(() => undefined);
    return open;
  }

  private createServer(): Server {
    return createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => this.accept(socket));
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    const handshakeTimer = setTimeout(() => client.destroy(), this.handshakeTimeoutMs);
    client.once('close', () => clearTimeout(handshakeTimer));
    let buffered: Buffer = Buffer.alloc(0);
    let stage: 'greeting' | 'request' = 'greeting';
    // A client that hangs up mid-handshake is done; with allowHalfOpen Node would wait for us.
    const onEnd = (): void => {
      client.destroy();
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (buffered.length > HANDSHAKE_CAP) {
        client.destroy();
        return;
      }
      if (stage === 'greeting') {
        if (buffered.length < 2) return;
        if (buffered[0] !== 0x05) {
          client.destroy();
          return;
        }
        const count = buffered[1] ?? 0;
        if (buffered.length < 2 + count) return;
        const methods = buffered.subarray(2, 2 + count);
        buffered = buffered.subarray(2 + count);
        if (!methods.includes(0x00)) {
          client.removeListener('data', onData);
          client.removeListener('end', onEnd);
          refuse(client, NO_ACCEPTABLE_METHOD);
          return;
        }
        client.write(NO_AUTH);
        stage = 'request';
      }
      const parsed = parseRequest(buffered);
      if (parsed === 'incomplete') return;
      client.removeListener('data', onData);
      client.removeListener('end', onEnd);
      client.pause();
      clearTimeout(handshakeTimer);
      if (parsed === 'malformed') {
        client.destroy();
        return;
      }
      if ('reply' in parsed) {
        refuse(client, failureReply(parsed.reply));
        return;
      }
      if (parsed.command !== 0x01) {
        refuse(client, failureReply(REPLY.commandNotSupported));
        return;
      }
      if (parsed.host === null) {
        refuse(client, failureReply(REPLY.hostUnreachable));
        return;
      }
      if (parsed.port === 0) {
        refuse(client, failureReply(REPLY.generalFailure));
        return;
      }
      const early = buffered.subarray(parsed.consumed);
      const target = { host: parsed.host, port: parsed.port };
      if (parsed.isDomain) void this.connectDomain(client, target, early);
      else void this.connectAddress(client, target, early);
    };
    client.on('data', onData);
    client.once('end', onEnd);
  }

  /** connectDomain decides before replying, so refusals get real reply codes. */
  private async connectDomain(client: Socket, target: { host: string; port: number }, early: Buffer): Promise<void> {
    const isIp = canonicalIp(target.host) !== null;
    const destination: Destination = {
      ip: isIp ? target.host : null,
      port: target.port,
      name: isIp ? null : target.host,
      nameSource: isIp ? null : 'socks',
      service: serviceName(target.port),
    };
    const decision = await this.decideSafely(this.options.decide, { vm: this.options.vm, destination });
    if (client.destroyed) return;
    if (decision.action !== 'allow') {
      refuse(client, failureReply(REPLY.notAllowed));
      return;
    }
    this.relay(client, decision.connectTo ?? target, decision.destination ?? destination, early, 'once-connected');
  }

  /**
   * connectAddress lets the decider settle an IP target on its address alone
   * (a rule on the address, or on the name the VM's DNS gave it); what it
   * cannot settle is sniffed. A denial is a proper 0x02 reply. An allowed
   * address gets its success reply while the connection is being made, as
   * on the sniffing path, saving the client a wait; should the connection
   * fail, the client sees a reset (behind the guest's transparent redirect,
   * every failure looks like that anyway).
   */
  private async connectAddress(client: Socket, target: { host: string; port: number }, early: Buffer): Promise<void> {
    const byAddress = this.options.decideByAddress;
    if (!byAddress) {
      this.sniffThenConnect(client, target, early);
      return;
    }
    const destination: Destination = { ip: target.host, port: target.port, name: null, nameSource: null, service: serviceName(target.port) };
    const decision = await this.decideSafely(byAddress, { vm: this.options.vm, destination });
    if (client.destroyed) return;
    if (decision === null) {
      this.sniffThenConnect(client, target, early);
    } else if (decision.action !== 'allow') {
      refuse(client, failureReply(REPLY.notAllowed));
    } else {
      this.relay(client, decision.connectTo ?? target, decision.destination ?? destination, early, 'while-connecting');
    }
  }

  /** sniffThenConnect replies success first, reads the first bytes for a name, then decides. */
  private sniffThenConnect(client: Socket, target: { host: string; port: number }, early: Buffer): void {
    client.write(SUCCESS_REPLY);
    let sniffed: Buffer = Buffer.from(early);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.removeListener('data', onData);
      client.removeListener('end', finish);
      client.pause();
      void this.decideSniffed(client, target, sniffed);
    };
    const conclusive = (): boolean => {
      if (sniffed.length >= this.sniffBytes) return true;
      if (sniffed.length === 0) return false;
      if (looksLikeTls(sniffed)) return tlsHelloComplete(sniffed);
      if (looksLikeHttp(sniffed)) return httpHeadComplete(sniffed);
      return true;
    };
    const onData = (chunk: Buffer): void => {
      const room = this.sniffBytes - sniffed.length;
      if (chunk.length > room) {
        // Paused first, so the bytes put back wait for the relay instead of re-entering here.
        client.pause();
        sniffed = Buffer.concat([sniffed, chunk.subarray(0, room)]);
        client.unshift(chunk.subarray(room));
        finish();
        return;
      } else {
        sniffed = sniffed.length === 0 ? chunk : Buffer.concat([sniffed, chunk]);
      }
      if (conclusive()) finish();
    };
    const wait = SERVER_SPEAKS_FIRST.has(target.port) && sniffed.length === 0 ? 0 : this.sniffTimeoutMs;
    const timer = setTimeout(finish, wait);
    if (conclusive()) {
      finish();
      return;
    }
    client.on('data', onData);
    client.once('end', finish);
    client.resume();
  }

  private async decideSniffed(client: Socket, target: { host: string; port: number }, firstBytes: Buffer): Promise<void> {
    const sni = looksLikeTls(firstBytes) ? parseTlsSni(firstBytes) : null;
    const host = sni === null && looksLikeHttp(firstBytes) ? parseHttpHost(firstBytes) : null;
    const destination: Destination = {
      ip: target.host,
      port: target.port,
      name: sni ?? host,
      nameSource: sni ? 'sni' : host ? 'http-host' : null,
      service: serviceName(target.port),
    };
    const decision = await this.decideSafely(this.options.decide, { vm: this.options.vm, destination, firstBytes });
    if (client.destroyed) return;
    if (decision.action !== 'allow') {
      abort(client);
      return;
    }
    this.relay(client, decision.connectTo ?? target, decision.destination ?? destination, firstBytes, 'sent');
  }

  /** decideSafely turns a decider that throws into a denial. */
  private async decideSafely<T extends ConnectDecision | null>(decider: (request: ConnectRequest) => Promise<T>, request: ConnectRequest): Promise<T | ConnectDecision> {
    try {
      return await decider(request);
    } catch (err) {
      return { action: 'deny', reason: `decision failed: ${(err as Error).message}` };
    }
  }

  /**
   * relay connects upstream, sends the success reply when `reply` says,
   * forwards the bytes read so far, and relays both ways until both sides
   * end. Client to upstream is a pipe(); upstream to client, the direction
   * downloads take, reads into growing slabs (see ReadSlab) and writes each
   * read on as it is, pausing upstream while the client is slow.
   */
  private relay(client: Socket, to: { host: string; port: number }, destination: Destination, pending: Buffer, reply: Reply): void {
    const replyOwed = reply === 'once-connected';
    const started = Date.now();
    const slab = new ReadSlab();
    const upstream: Socket = this.connectUpstream({
      host: to.host,
      port: to.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: {
        buffer: () => slab.room(),
        // Returning false pauses reading until the client has taken what it was given.
        callback: (bytes) => {
          if (client.destroyed) return false;
          const chunk = slab.take(bytes);
          if (client.write(chunk, () => slab.written(chunk))) return true;
          client.once('drain', () => upstream.resume());
          return false;
        },
      },
    });
    // Sent after the connect has started, so the handshake overlaps the client's round trip.
    if (reply === 'while-connecting') client.write(SUCCESS_REPLY);
    let connected = false;
    let failure: string | null = null;
    let closed = 0;
    const onClosed = (): void => {
      closed += 1;
      if (closed < 2) return;
      this.options.onConnectionClosed?.({
        at: new Date().toISOString(),
        vm: this.options.vm,
        kind: 'connection',
        destination,
        action: 'allow',
        ...(failure ? { reason: failure } : {}),
        bytesUp: upstream.bytesWritten,
        bytesDown: upstream.bytesRead,
        durationMs: Date.now() - started,
      });
    };
    client.once('close', onClosed);
    upstream.once('close', onClosed);
    const connectTimer = setTimeout(() => {
      failure = 'connect timed out';
      if (replyOwed) refuse(client, failureReply(REPLY.ttlExpired));
      else abort(client);
      upstream.destroy();
    }, this.connectTimeoutMs);
    upstream.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (!connected) {
        failure = `connect failed: ${err.code ?? err.message}`;
        if (replyOwed) refuse(client, failureReply(replyForError(err.code)));
        else abort(client);
      } else {
        client.destroy();
      }
    });
    upstream.once('connect', () => {
      clearTimeout(connectTimer);
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      connected = true;
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      // A side that closes before ending its stream was reset or timed out: reset the other too.
      client.once('close', () => {
        if (!upstream.writableEnded) upstream.destroy();
      });
      upstream.once('close', () => {
        if (!client.writableEnded) client.destroy();
      });
      client.setTimeout(this.idleTimeoutMs, () => {
        client.destroy();
        upstream.destroy();
      });
      if (replyOwed) client.write(SUCCESS_REPLY);
      if (pending.length > 0) upstream.write(pending);
      client.pipe(upstream);
      upstream.once('end', () => client.end());
    });
    client.once('close', () => {
      if (!connected) {
        clearTimeout(connectTimer);
        upstream.destroy();
      }
    });
  }
}

/** replyForError maps a connect error to the closest RFC 1928 reply code. */
export function replyForError(code: string | undefined): number {
  switch (code) {
    case 'ECONNREFUSED':
      return REPLY.connectionRefused;
    case 'ENETUNREACH':
      return REPLY.networkUnreachable;
    case 'EHOSTUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return REPLY.hostUnreachable;
    case 'ETIMEDOUT':
      return REPLY.ttlExpired;
    default:
      return REPLY.generalFailure;
  }
}

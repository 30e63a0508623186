// Runs in: plain Node (core).
import { type Server, type Socket, type TcpNetConnectOpts, connect, createServer } from 'node:net';
import type { OpenConnection } from '../../shared/live';
import type { Destination, FirewallLogEntry, RuleAction } from '../../shared/models';
import { canonicalIp } from './address';
import { ClientReader } from './client-reader';
import { closeListeners, openListeners } from './listen';
import { serviceName } from './services';
import { looksLikeHttp, looksLikeTls, parseHttpHost, parseTlsSni } from './sniff';
import { readHandshake } from './socks5-handshake';
import { Relay } from './socks5-relay';
import type { InterceptHandler, Interception, RelayOptions, Route } from './socks5-relay-types';
import { type HandshakeTarget, REPLY } from './socks5-wire';

export { REPLY } from './socks5-wire';

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
  /** intercept, on an allowed TLS connection, hands it to the server's `intercept` handler (see Relay.intercept). */
  readonly intercept?: Interception;
  /** rule is the id of the rule that decided, when one did. */
  readonly rule?: string | null;
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
   * (a name) to decide, and `decide` is asked after sniffing instead. A
   * decision it returns at once (not a promise) is acted on at once.
   */
  readonly decideByAddress?: (request: ConnectRequest) => ConnectDecision | null | Promise<ConnectDecision | null>;
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
  /** intercept serves the connections a decision marks for interception (the egress interceptor). */
  readonly intercept?: InterceptHandler;
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
 *
 * The server accepts, decides and routes; the bytes of the handshake are
 * socks5-wire.ts, reading them socks5-handshake.ts, and everything after
 * the request, up to the connection's log entry, is a Relay.
 */
export class Socks5Server {
  private readonly servers: Server[] = [];
  /** sockets are the open client connections, each with its relay once its handshake is done. */
  private readonly sockets = new Map<Socket, Relay | null>();
  private nextId = 1;
  private tcpAddress: number | null = null;
  private readonly handshakeTimeoutMs: number;
  private readonly relayOptions: RelayOptions;

  constructor(private readonly options: Socks5ServerOptions) {
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.relayOptions = {
      vm: options.vm,
      connectUpstream: options.connectUpstream ?? connect,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 2 * 60 * 60 * 1000,
      sniffTimeoutMs: options.sniffTimeoutMs ?? 750,
      sniffBytes: options.sniffBytes ?? 16 * 1024,
      ...(options.onConnectionClosed ? { onClosed: options.onConnectionClosed } : {}),
      ...(options.intercept ? { intercept: options.intercept } : {}),
    };
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

  /**
   * close stops listening and closes every open connection, returning once
   * each is closed and logged (the server does not count the clients it
   * adopted, see ClientReader, so its own close does not wait for them);
   * returns how many were open.
   */
  async close(): Promise<number> {
    const open = this.sockets.size;
    const closing = [...this.sockets].map(([client, relay]) => relay?.settled() ?? new Promise((resolve) => client.once('close', resolve)));
    await closeListeners(this.servers, this.sockets.keys(), this.options.socketPath);
    await Promise.all(closing);
    return open;
  }

  private createServer(): Server {
    return createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => this.accept(new ClientReader(socket)));
  }

  /**
   * connections are the connections open now, as the open-connections view
   * shows them: one walk over the open sockets, reading each relay's
   * counters; nothing is counted while bytes flow.
   */
  connections(): OpenConnection[] {
    const open: OpenConnection[] = [];
    for (const relay of this.sockets.values()) {
      const connection = relay?.snapshot();
      if (connection) open.push(connection);
    }
    return open;
  }

  private accept(reader: ClientReader): void {
    const client = reader.socket;
    this.sockets.set(client, null);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    readHandshake(reader, this.handshakeTimeoutMs, (target, early) => {
      const destination = requestedDestination(target);
      const relay = new Relay(reader, this.relayOptions, this.nextId++, destination);
      if (this.sockets.has(client)) this.sockets.set(client, relay);
      if (target.isDomain) void this.connectDomain(relay, target, destination, early);
      else this.connectAddress(relay, target, destination, early);
    });
  }

  /** connectDomain decides before replying, so refusals get real reply codes. */
  private async connectDomain(relay: Relay, target: HandshakeTarget, destination: Destination, early: Buffer): Promise<void> {
    const decision = await this.decideSafely(this.options.decide, { vm: this.options.vm, destination });
    if (relay.state !== 'deciding') return;
    if (decision.action !== 'allow') relay.finish(`denied: ${decision.reason}`, REPLY.notAllowed);
    else relay.connect(routeFor(decision, target, destination), early, 'once-connected');
  }

  /**
   * connectAddress lets the decider settle an IP target on its address alone
   * (a rule on the address, or on the name the VM's DNS gave it); what it
   * cannot settle is sniffed. A denial is a proper 0x02 reply. An allowed
   * address is answered before its connection is made, as on the sniffing
   * path, saving the client a wait; should the connection fail, the client
   * sees a reset (behind the guest's transparent redirect, every failure
   * looks like that anyway).
   */
  private connectAddress(relay: Relay, target: HandshakeTarget, destination: Destination, early: Buffer): void {
    const byAddress = this.options.decideByAddress;
    let decision: ConnectDecision | null | Promise<ConnectDecision | null>;
    try {
      decision = byAddress ? byAddress({ vm: this.options.vm, destination }) : null;
    } catch (err) {
      decision = failedDecision(err);
    }
    const act = (decided: ConnectDecision | null): void => this.actOnAddress(relay, target, destination, early, decided);
    if (decision instanceof Promise) void decision.then(act, (err: unknown) => act(failedDecision(err)));
    else act(decision);
  }

  /** actOnAddress acts on connectAddress's decision: sniff for a name (null), refuse with 0x02, or connect. */
  private actOnAddress(relay: Relay, target: HandshakeTarget, destination: Destination, early: Buffer, decision: ConnectDecision | null): void {
    if (relay.state !== 'deciding') return;
    if (decision === null) relay.sniff(early, target.port, (firstBytes) => this.decideSniffed(target, firstBytes));
    else if (decision.action !== 'allow') relay.finish(`denied: ${decision.reason}`, REPLY.notAllowed);
    else relay.connect(routeFor(decision, target, destination), early, 'before-connecting');
  }

  /** decideSniffed names an IP target from its first bytes (TLS SNI or HTTP Host) and decides; null is a denial. */
  private async decideSniffed(target: HandshakeTarget, firstBytes: Buffer): Promise<Route | null> {
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
    return decision.action === 'allow' ? routeFor(decision, target, destination) : null;
  }

  /** decideSafely turns a decider that throws into a denial. */
  private async decideSafely<T extends ConnectDecision | null>(decider: (request: ConnectRequest) => Promise<T>, request: ConnectRequest): Promise<T | ConnectDecision> {
    try {
      return await decider(request);
    } catch (err) {
      return failedDecision(err);
    }
  }
}

/** failedDecision is the denial a decider that throws amounts to. */
function failedDecision(err: unknown): ConnectDecision {
  return { action: 'deny', reason: `decision failed: ${(err as Error).message}` };
}

/** requestedDestination is where a client asked to go: an address, or a name given as a SOCKS domain. */
function requestedDestination(target: HandshakeTarget): Destination {
  const isIp = !target.isDomain || canonicalIp(target.host) !== null;
  return {
    ip: isIp ? target.host : null,
    port: target.port,
    name: isIp ? null : target.host,
    nameSource: isIp ? null : 'socks',
    service: serviceName(target.port),
  };
}

/** routeFor is where an allowed decision sends a connection (the decider's address and destination, else the request's) and what allowed it. */
function routeFor(decision: ConnectDecision, target: HandshakeTarget, destination: Destination): Route {
  return {
    to: decision.connectTo ?? { host: target.host, port: target.port },
    destination: decision.destination ?? destination,
    ...(decision.intercept ? { intercept: decision.intercept } : {}),
    reason: decision.reason,
    rule: decision.rule ?? null,
  };
}

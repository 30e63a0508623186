// Runs in: plain Node (core).
import type { OpenConnection } from '../../shared/live';
import type { Destination, FirewallLogEntry, RuleAction } from '../../shared/models';
import { hostOwnAddresses, isHostLocal } from './address';
import { HOST_INTERNAL_IP, addressesOf, hostResolver } from './dns';
import { DnsServer } from './dns-server';
import { type NameSources, identifyDestination, identifyKnown } from './identify-destination';
import { interceptionFor } from './intercept';
import { FIREWALL_PROBE_IP, FIREWALL_PROBE_PORT, ProbeResponder } from './probe';
import { formatRuleTarget } from '../../shared/scopes';
import { type ConnectDecision, type ConnectRequest, Socks5Server } from './socks5';
import type { InterceptHandler, Interception } from './socks5-relay-types';
import type { EgressOptions, VmFirewallOptions } from './vm-firewall-options';

/**
 * Settled is a decision made: the action, why, the id of the rule that made
 * it, if one did, and whether only HTTP rules let the connection in (its
 * requests are then each decided by them).
 */
interface Settled {
  readonly action: RuleAction;
  readonly reason: string;
  readonly rule?: string | null;
  readonly byHttpRules?: boolean;
}

/**
 * VmFirewall is one running VM's egress firewall: its SOCKS5 proxy and DNS
 * server, wired to its rules, the shared prompt broker and its log.
 *
 * Deciding a connection:
 *  1. Identify it: the address, the port, and the best name. A name the guest
 *     claims (SOCKS domain aside) is trusted only if the VM's DNS answered that
 *     address for it or the host resolves it there, so TLS SNI or a Host
 *     header cannot borrow an allowed name for another address.
 *  2. The firewall probe (probe.ts) is answered by Xray, whatever the rules say.
 *  3. The host itself (loopback) is reachable only as host.xray.internal.
 *  4. A matching rule decides; else `allowAll` or `learn` allows; else HTTP rules for
 *     the host let it in, to decide its requests one by one; else the user
 *     is asked.
 *  5. An allowed TLS connection to a host with a secret bound to it or HTTP
 *     rules is intercepted (see intercept.ts); the rest are relayed as they are.
 * A bare address the VM looked up through its DNS is decided in the proxy's
 * first step, before the client sends anything (see decideByAddress).
 */
export class VmFirewall {
  private readonly socks: Socks5Server;
  private readonly dns: DnsServer;
  private readonly probe = new ProbeResponder();
  private readonly names: NameSources;
  private readonly hostAddress: string;
  private readonly isHostAddress: (ip: string) => boolean;
  private readonly now: () => number;
  /** unrecorded are closed connections' log entries waiting for flushClosed. */
  private unrecorded: FirewallLogEntry[] = [];

  constructor(private readonly options: VmFirewallOptions) {
    const resolver = options.dnsResolver ?? hostResolver();
    this.names = { nameCache: options.nameCache, resolveHost: options.resolveHost ?? ((name) => addressesOf(resolver, name)) };
    this.hostAddress = options.hostAddress ?? '127.0.0.1';
    this.isHostAddress = options.isHostAddress ?? ((ip) => isHostLocal(ip, hostOwnAddresses()));
    this.now = options.now ?? Date.now;
    this.socks = new Socks5Server({
      vm: options.vm,
      socketPath: options.proxySocket,
      ...(options.tcpPorts?.proxy !== undefined ? { tcpPort: options.tcpPorts.proxy } : {}),
      ...options.socks,
      decide: (request) => this.decide(request),
      decideByAddress: (request) => this.decideByAddress(request),
      onConnectionClosed: (entry) => this.recordClosed(entry),
      ...(options.egress ? { intercept: this.interceptHandler(options.egress) } : {}),
    });
    this.dns = new DnsServer({
      vm: options.vm,
      socketPath: options.dnsSocket,
      ...(options.tcpPorts?.dns !== undefined ? { tcpPort: options.tcpPorts.dns } : {}),
      resolver,
      nameCache: options.nameCache,
      onLookup: (entry) => options.log?.append(entry),
    });
  }

  get openConnections(): number {
    return this.socks.connectionCount;
  }

  /** connections are the VM's connections open now, with their bytes so far and what allowed them. */
  connections(): OpenConnection[] {
    return this.socks.connections();
  }

  /** ports are the test listeners' ports, when tcpPorts asked for them. */
  get ports(): { proxy: number | null; dns: number | null } {
    return { proxy: this.socks.tcpPort, dns: this.dns.tcpPort };
  }

  async start(): Promise<void> {
    await this.probe.start();
    try {
      await this.socks.listen();
    } catch (err) {
      await this.probe.close();
      throw err;
    }
    try {
      await this.dns.listen();
    } catch (err) {
      await this.socks.close();
      await this.probe.close();
      throw err;
    }
  }

  /** probeSeen tells whether the guest's firewall probe with `nonce` came through this firewall (see probe.ts). */
  probeSeen(nonce: string): boolean {
    return this.probe.seen(nonce);
  }

  /**
   * stop closes both servers and every open connection, denies the VM's open
   * prompts and drops rules that last until the VM stops. Returns how many
   * connections were still open.
   */
  async stop(): Promise<number> {
    this.options.broker.cancelVm(this.options.vm);
    const closed = await this.socks.close();
    this.flushClosed();
    await this.dns.close();
    await this.probe.close();
    this.options.rules.vmStopped();
    return closed;
  }

  /** decide is the proxy's decision hook; exposed so the flow can be tested without sockets. */
  async decide(request: ConnectRequest): Promise<ConnectDecision> {
    const destination = await identifyDestination(request.destination, this.names);
    const settled = this.settle(destination);
    if (settled) return this.conclude(destination, settled);
    const answer = await this.options.broker.request(this.options.vm, destination);
    const reason = answer.reason === 'answered' && answer.rule ? `answered: ${formatRuleTarget(answer.rule.target)}` : answer.reason;
    // A rule that lasts (not once) is the one to revoke later; a once answer left none behind.
    const rule = answer.rule && answer.rule.lifetime.kind !== 'once' ? answer.rule.id : null;
    return this.conclude(destination, { action: answer.action, reason, rule });
  }

  /**
   * decideByAddress is the proxy's hook for a bare address before the
   * client has sent anything. An address the VM looked up through its DNS
   * is known by that name, and when a rule (or allow-all) settles it, the
   * connection goes ahead without waiting for the client's first bytes.
   * Anything else returns null: the proxy reads the first bytes for a TLS
   * or HTTP name and asks `decide`, so prompts and name rules see the best
   * name there is. An address needs no resolver, so it is decided at once
   * (no promise), and the client hears its reply in the same turn.
   */
  decideByAddress(request: ConnectRequest): ConnectDecision | null | Promise<ConnectDecision | null> {
    const known = identifyKnown(request.destination, this.names.nameCache);
    if (known !== null) return this.decideIdentified(known);
    return identifyDestination(request.destination, this.names).then((destination) => this.decideIdentified(destination));
  }

  /** decideIdentified is decideByAddress once the destination is identified. */
  private decideIdentified(destination: Destination): ConnectDecision | null {
    const guarded = this.guard(destination);
    if (guarded) return this.conclude(destination, guarded);
    if (destination.name === null) return null;
    const settled = this.settle(destination);
    return settled ? this.conclude(destination, settled) : null;
  }

  /**
   * guard settles what no rule may change: the probe is answered, and the
   * host's own addresses (loopback, its interfaces, in any spelling) are
   * refused, since the host is reachable only as host.xray.internal.
   */
  private guard(destination: Destination): Settled | null {
    if (this.isProbe(destination)) return { action: 'allow', reason: 'firewall probe (answered by Xray)' };
    // Connecting by a name no resolver here answered would let the connect resolve it (to the host, say) unchecked.
    if (destination.ip === null) return { action: 'deny', reason: 'the name does not resolve' };
    if (!this.isToHost(destination) && destination.ip !== null && this.isHostAddress(destination.ip)) {
      return { action: 'deny', reason: 'the host is reachable only as host.xray.internal' };
    }
    return null;
  }

  /**
   * settle decides without asking: the guard, then the rules, then
   * allow-all or learn mode, which cover the outside world but never the
   * host: reaching host.xray.internal always takes a rule. Null means ask.
   */
  private settle(destination: Destination): Settled | null {
    const guarded = this.guard(destination);
    if (guarded) return guarded;
    const match = this.options.rules.match(destination, this.now());
    if (match) return { action: match.action, reason: `rule ${formatRuleTarget(match.rule.target)}${match.rule.source === 'default' ? ' (default)' : ''}`, rule: match.rule.id };
    const open = this.options.learn ? 'learn mode' : this.options.allowAll ? 'allow-all' : null;
    if (open && this.isToHost(destination)) return { action: 'deny', reason: `${open} does not cover the host; add a rule for host.xray.internal` };
    if (open) return { action: 'allow', reason: open };
    if (this.options.egress && this.options.rules.httpRules(destination, this.now()).length > 0) {
      return { action: 'allow', reason: 'HTTP rules decide its requests', byHttpRules: true };
    }
    return null;
  }

  /**
   * conclude logs and announces a decision and says where an allowed
   * connection goes, and whether it is intercepted. The decision is recorded
   * once its caller is done (a microtask): the proxy answers its client first.
   */
  private conclude(destination: Destination, { action, reason, rule, byHttpRules }: Settled): ConnectDecision {
    const entry: FirewallLogEntry = { at: new Date(this.now()).toISOString(), vm: this.options.vm, kind: 'decision', destination, action, reason };
    queueMicrotask(() => {
      this.options.log?.append(entry);
      this.options.emit({ type: 'firewall.decision', vm: this.options.vm, destination, action, reason, rule: rule ?? null });
    });
    if (action === 'deny') return { action, reason, destination };
    const decided = { action, reason, destination, rule: rule ?? null };
    if (this.isProbe(destination)) return { ...decided, connectTo: { host: '127.0.0.1', port: this.probe.port ?? 0 } };
    this.options.learn?.connection(destination);
    if (this.isToHost(destination)) return { ...decided, connectTo: { host: this.hostAddress, port: destination.port } };
    const intercept = this.interception(destination, byHttpRules === true);
    return { ...decided, connectTo: { host: destination.ip as string, port: destination.port }, ...(intercept ? { intercept } : {}) };
  }

  /** interception says whether an allowed connection to the outside is intercepted, and how its unmatched requests go. */
  private interception(destination: Destination, byHttpRules: boolean): Interception | null {
    const { egress } = this.options;
    if (!egress || interceptionFor({ bindings: egress.bindings(), rules: this.options.rules }, destination) === null) return null;
    return { unmatched: byHttpRules ? 'ask' : 'allow' };
  }

  /** interceptHandler hands an intercepted connection to the interceptor, with the VM's bindings and rules as they are now. */
  private interceptHandler(egress: EgressOptions): InterceptHandler {
    return (client, firstBytes, route) =>
      egress.interceptor.handle({
        client,
        firstBytes,
        destination: { name: route.destination.name ?? route.to.host, ip: route.to.host, port: route.to.port },
        policy: { bindings: egress.bindings(), rules: this.options.rules },
        unmatched: route.intercept.unmatched,
      });
  }

  /** isProbe tells the guest's firewall probe, which the firewall answers itself, from real destinations. */
  private isProbe(destination: Destination): boolean {
    return destination.ip === FIREWALL_PROBE_IP && destination.port === FIREWALL_PROBE_PORT;
  }

  /** isToHost is true for identified destinations bound for host.xray.internal (identifyDestination maps them to its address). */
  private isToHost(destination: Destination): boolean {
    return destination.ip === HOST_INTERNAL_IP;
  }

  /**
   * recordClosed logs and announces a closed connection after the proxy's
   * other I/O of this turn: a connection's teardown often lands in the middle
   * of the next connection, whose bytes go first. Entries gather and are
   * recorded together.
   */
  private recordClosed(entry: FirewallLogEntry): void {
    if (this.unrecorded.push(entry) === 1) setImmediate(() => this.flushClosed());
  }

  /** flushClosed records the gathered closed connections, oldest first. */
  private flushClosed(): void {
    const entries = this.unrecorded;
    this.unrecorded = [];
    for (const entry of entries) {
      this.options.log?.append(entry);
      this.options.emit({ type: 'firewall.connection', entry });
    }
  }
}

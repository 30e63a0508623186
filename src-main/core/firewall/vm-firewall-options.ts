// Runs in: plain Node (core). What a VM's firewall is built from: its
// sockets, rules, prompt broker, name cache and log, and the settings that
// open or intercept it.
import type { Destination, SecretBinding } from '../../shared/models';
import type { XrayEvent } from '../../shared/contract';
import type { DnsResolver } from './dns';
import type { Interceptor } from './intercept';
import type { FirewallLog } from './log';
import type { NameCache } from './name-cache';
import type { PromptBroker } from './prompts';
import type { RuleSet } from './rules';
import type { Socks5Server } from './socks5';

/** EgressOptions let a firewall intercept hosts with a secret bound to them or HTTP rules (see intercept.ts). */
export interface EgressOptions {
  readonly interceptor: Interceptor;
  /** bindings are the VM's secret bindings now (they follow vm.toml). */
  readonly bindings: () => readonly SecretBinding[];
}

/** VmFirewallOptions are what a VmFirewall is built from. */
export interface VmFirewallOptions {
  readonly vm: string;
  readonly proxySocket: string;
  readonly dnsSocket: string;
  readonly rules: RuleSet;
  readonly broker: PromptBroker;
  readonly nameCache: NameCache;
  readonly emit: (event: XrayEvent) => void;
  /** allowAll lets everything through without asking or remembering (`xray start --allow-all`). */
  readonly allowAll?: boolean;
  /** learn lets through what allow-all would and is told each connection allowed (`xray start --learn`). */
  readonly learn?: { connection(destination: Destination): void };
  /** dnsResolver answers the guest's DNS questions and names the proxy resolves; default: the host's resolver. */
  readonly dnsResolver?: DnsResolver;
  /** resolveHost resolves a name the guest asked the proxy for; default: dnsResolver's addresses. For testing. */
  readonly resolveHost?: (name: string) => Promise<string[]>;
  readonly log?: FirewallLog;
  /** hostAddress is where host.xray.internal leads on the host. */
  readonly hostAddress?: string;
  /** isHostAddress says which addresses are the host itself; default: loopback and the host's interface addresses. For testing. */
  readonly isHostAddress?: (ip: string) => boolean;
  /** tcpPorts also opens the proxy and DNS on 127.0.0.1 (0 = free port); for tests. */
  readonly tcpPorts?: { readonly proxy?: number; readonly dns?: number };
  readonly socks?: Partial<Pick<ConstructorParameters<typeof Socks5Server>[0], 'sniffTimeoutMs' | 'connectTimeoutMs' | 'idleTimeoutMs' | 'handshakeTimeoutMs'>>;
  /** egress intercepts what needs it; without it every allowed connection is relayed untouched. */
  readonly egress?: EgressOptions;
  readonly now?: () => number;
}

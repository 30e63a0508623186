// Runs in: plain Node (core). What the egress proxy's interception works
// with: the policy, the choice to intercept a connection at all, and the
// Interceptor's options, inputs and results.
import type { Duplex } from 'node:stream';
import type { EgressReport } from '../../shared/egress';
import type { Destination, RuleAction, SecretBinding } from '../../shared/models';
import { bindingCoversHost } from '../secrets/bindings';
import type { RuleSet } from './rules';
import { looksLikeTls } from './sniff';
import type { VmCertificateAuthority } from './tls-ca';
import type { UpstreamTrust } from './upstream-trust';

/** EgressPolicy is what a VM's interception follows: its secret bindings and its rules (HTTP rules among them). */
export interface EgressPolicy {
  readonly bindings: readonly SecretBinding[];
  readonly rules: RuleSet;
}

/** Interception says why a connection is intercepted: the secrets bound to its host, and whether HTTP rules cover it. */
export interface Interception {
  readonly host: string;
  readonly bound: readonly SecretBinding[];
  readonly httpRules: boolean;
}

/**
 * interceptionFor decides, per connection, whether to intercept at all: only
 * a named destination with a secret bound to its name or an HTTP rule for
 * it, and only TLS (when the first bytes are known, they must begin a TLS
 * handshake). Null means relay the bytes untouched.
 */
export function interceptionFor(policy: EgressPolicy, destination: Destination, firstBytes?: Buffer): Interception | null {
  if (destination.name === null) return null;
  if (firstBytes !== undefined && firstBytes.length > 0 && !looksLikeTls(firstBytes)) return null;
  const host = destination.name;
  const bound = policy.bindings.filter((binding) => bindingCoversHost(binding, host));
  const httpRules = policy.rules.httpRules(destination).length > 0;
  if (bound.length === 0 && !httpRules) return null;
  return { host, bound, httpRules };
}

/** InterceptTarget is where an intercepted connection goes: the name it was decided for, the address and port to dial. */
export interface InterceptTarget {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
}

/** AskedRequest is a request no HTTP rule covers, for the prompt to show with its destination, method and path (normalized, placeholders masked). */
export interface AskedRequest extends InterceptTarget {
  readonly vm: string;
  readonly method: string;
  readonly path: string;
}

export interface InterceptorOptions {
  readonly vm: string;
  readonly ca: VmCertificateAuthority;
  readonly trust: UpstreamTrust;
  /** reveal reads a secret's value from the host's store (SecretStore.reveal). */
  readonly reveal: (secret: string) => Promise<string>;
  /** report receives every EgressReport: for the log, the notifications and the prompt. */
  readonly report: (report: EgressReport) => void;
  /** forwarded is told each request forwarded to the real server (learn mode records them); its path has placeholders masked and no query. */
  readonly forwarded?: (request: { host: string; port: number; method: string; path: string }) => void;
  /** ask decides (and says why) a request no HTTP rule covers on a connection no host rule allowed; without it such requests are refused. */
  readonly ask?: (request: AskedRequest) => Promise<{ readonly action: RuleAction; readonly reason: string }>;
  readonly helloTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /** secretCacheMs is how long a revealed value is kept in memory before it is read again; default 30 s. */
  readonly secretCacheMs?: number;
}

export interface InterceptedConnection {
  /** client is the guest's stream, after the SOCKS success reply. */
  readonly client: Duplex;
  /** firstBytes are what was read from it already (some or all of the TLS ClientHello); they are replayed. */
  readonly firstBytes: Buffer;
  readonly destination: InterceptTarget;
  readonly policy: EgressPolicy;
  /** unmatched is what a request no HTTP rule covers gets: `allow` when a host rule allowed the connection, `ask` otherwise. */
  readonly unmatched: 'allow' | 'ask';
}

export interface InterceptSummary {
  /** protocol is what was spoken with the guest, null when no TLS session was set up. */
  readonly protocol: 'h2' | 'http/1.1' | null;
  readonly requests: number;
  readonly refused: number;
  /** failure says why the connection ended early, if it did. */
  readonly failure: string | null;
}

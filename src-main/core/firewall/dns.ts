// Runs in: plain Node (core).
import type { LookupAddress } from 'node:dns';
import { XrayError } from '../../shared/errors';
import { canonicalIp } from './address';
import { nodeDns } from '../builtins';

/** HOST_INTERNAL_NAME is the name a guest uses to reach services on the host. */
export const HOST_INTERNAL_NAME = 'host.xray.internal';
/**
 * HOST_INTERNAL_IP is what HOST_INTERNAL_NAME resolves to in the guest. It is
 * outside QEMU's user-network services (10.0.2.2/3/100) and routed nowhere, so
 * the guest's redsocks captures it like any other address; the firewall maps
 * it to the host's 127.0.0.1, and only when a rule allows it.
 */
export const HOST_INTERNAL_IP = '10.0.2.254';

export interface ResolvedAddress {
  readonly address: string;
  readonly ttl: number;
}

/**
 * DnsResolver answers A and AAAA questions. It rejects with an error whose
 * `code` is ENOTFOUND for names that do not exist and ENODATA for names that
 * have no records of that type (node:dns conventions).
 */
export interface DnsResolver {
  resolve4(name: string): Promise<ResolvedAddress[]>;
  resolve6(name: string): Promise<ResolvedAddress[]>;
}

/**
 * ANSWER_TTL_SECONDS is the TTL given to answers from the host's resolver,
 * which does not say how long they hold.
 */
const HOST_ANSWER_TTL_SECONDS = 60;
/** HOST_ANSWER_REUSE_MS lets the AAAA question that follows an A question share one lookup. */
const HOST_ANSWER_REUSE_MS = 2000;

function dnsError(code: string, name: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code} ${name}`), { code });
}

/**
 * hostResolver answers the way the host itself would, through getaddrinfo:
 * the hosts file, and on a Mac the per-domain resolvers a VPN or
 * /etc/resolver installs, which a resolver that reads only
 * /etc/resolv.conf never sees. One lookup (both families) answers the A
 * and the AAAA question a guest asks together. Names that exist without
 * an address of the asked family answer ENODATA, so the guest does not
 * take "no IPv6" for "no such name".
 */
export function hostResolver(): DnsResolver {
  const recent = new Map<string, { readonly at: number; readonly answer: Promise<LookupAddress[]> }>();
  const lookupBoth = (name: string): Promise<LookupAddress[]> => {
    const now = Date.now();
    for (const [key, entry] of recent) if (now - entry.at > HOST_ANSWER_REUSE_MS) recent.delete(key);
    const cached = recent.get(name);
    if (cached) return cached.answer;
    const answer = nodeDns().promises.lookup(name, { all: true, verbatim: true });
    recent.set(name, { at: now, answer });
    answer.catch(() => recent.delete(name));
    return answer;
  };
  const resolve = async (name: string, family: 4 | 6): Promise<ResolvedAddress[]> => {
    let found: LookupAddress[];
    try {
      found = await lookupBoth(name);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw dnsError(code === 'ENOTFOUND' || code === 'EAI_NONAME' ? 'ENOTFOUND' : (code ?? 'ESERVFAIL'), name);
    }
    const matching = found.filter((entry) => entry.family === family);
    if (matching.length === 0) throw dnsError('ENODATA', name);
    return matching.map((entry) => ({ address: entry.address, ttl: HOST_ANSWER_TTL_SECONDS }));
  };
  return { resolve4: (name) => resolve(name, 4), resolve6: (name) => resolve(name, 6) };
}

/** serverResolver asks the given DNS servers ("IP" or "IP:PORT", "[IPv6]:PORT") directly, with their TTLs. */
export function serverResolver(servers: readonly string[]): DnsResolver {
  const resolver = new (nodeDns().promises.Resolver)({ timeout: 5000, tries: 2 });
  resolver.setServers([...servers]);
  return {
    resolve4: (name) => resolver.resolve4(name, { ttl: true }),
    resolve6: (name) => resolver.resolve6(name, { ttl: true }),
  };
}

/**
 * parseDnsServer reads one DNS server as config.toml and XRAY_DNS_SERVERS
 * give it, "IP", "IP:PORT" or "[IPv6]:PORT", into the form node:dns takes;
 * null when it is not one.
 */
export function parseDnsServer(text: string): string | null {
  const t = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(t);
  const withPort = /^([^:]+):(\d{1,5})$/.exec(t);
  const [host, port] = bracketed ? [bracketed[1] ?? '', bracketed[2]] : withPort ? [withPort[1] ?? '', withPort[2]] : [t, undefined];
  const ip = canonicalIp(host);
  if (ip === null || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) return null;
  const shown = ip.includes(':') ? `[${ip}]` : ip;
  return port === undefined ? shown : `${shown}:${Number(port)}`;
}

/**
 * guestResolver picks what answers a VM's DNS questions: XRAY_DNS_SERVERS
 * (comma-separated) when set, else the `dns_servers` setting, else the
 * host's own resolver. Entries that are not addresses are refused by the
 * setting; from the environment they are an error here.
 */
export function guestResolver(configured: readonly string[], env: NodeJS.ProcessEnv = process.env): DnsResolver {
  const fromEnv = env.XRAY_DNS_SERVERS?.split(',').map((s) => s.trim()).filter((s) => s !== '') ?? [];
  const chosen = fromEnv.length > 0 ? fromEnv : configured;
  if (chosen.length === 0) return hostResolver();
  const servers = chosen.map((text) => {
    const server = parseDnsServer(text);
    if (server === null) throw new XrayError('invalid-argument', `"${text}" in ${fromEnv.length > 0 ? 'XRAY_DNS_SERVERS' : 'dns_servers'} is not a DNS server address; give IP or IP:PORT.`);
    return server;
  });
  return serverResolver(servers);
}

/** addressesOf resolves a name to its IPv4 addresses, else its IPv6 ones, else none. */
export async function addressesOf(resolver: DnsResolver, name: string): Promise<string[]> {
  const v4 = await resolver.resolve4(name).catch(() => [] as ResolvedAddress[]);
  if (v4.length > 0) return v4.map((r) => r.address);
  const v6 = await resolver.resolve6(name).catch(() => [] as ResolvedAddress[]);
  return v6.map((r) => r.address);
}

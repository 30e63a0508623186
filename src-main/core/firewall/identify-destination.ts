// Runs in: plain Node (core). Naming a destination the guest asked for: the
// address that will be dialled, and a name only if it belongs to that address.
import type { Destination } from '../../shared/models';
import { canonicalIp } from './address';
import { HOST_INTERNAL_IP, HOST_INTERNAL_NAME } from './dns';
import type { NameCache } from './name-cache';

/** NameSources are where names and addresses come from: the VM's DNS answers and a resolver. */
export interface NameSources {
  readonly nameCache: NameCache;
  readonly resolveHost: (name: string) => Promise<string[]>;
}

/**
 * identifyDestination completes a destination: resolves a SOCKS domain to
 * the address that will be dialled (so IP and CIDR rules apply to it, and
 * the address checked is the address used), names bare addresses from the
 * VM's DNS answers, and drops sniffed names that do not belong to the
 * address. host.xray.internal is the host only as the address it resolves
 * to or as a SOCKS domain; a TLS SNI or Host header naming it on another
 * address is dropped like any name that does not belong.
 */
export async function identifyDestination(d: Destination, sources: NameSources): Promise<Destination> {
  const known = identifyKnown(d, sources.nameCache);
  if (known !== null) return known;
  // Left: a SOCKS domain to resolve, or a sniffed name the VM's DNS did not give this address.
  const name = d.name as string;
  const ip = d.ip === null ? null : canonicalIp(d.ip);
  if (ip === null) {
    const addresses = await sources.resolveHost(name).catch(() => [] as string[]);
    return { ...d, ip: addresses[0] ?? null };
  }
  if (await nameBelongsTo(name, ip, sources)) return { ...d, ip };
  return namedByDns(d, ip, sources.nameCache);
}

/**
 * identifyKnown is identifyDestination for what needs no resolver (a bare
 * address, the guest's redsocks asking, above all), decided at once, so the
 * proxy can answer without waiting a turn; null means the resolver must be
 * asked.
 */
export function identifyKnown(d: Destination, nameCache: NameCache): Destination | null {
  const ip = d.ip === null ? null : canonicalIp(d.ip);
  if (ip === HOST_INTERNAL_IP || (ip === null && d.name === HOST_INTERNAL_NAME)) {
    return { ...d, ip: HOST_INTERNAL_IP, name: HOST_INTERNAL_NAME, nameSource: d.nameSource ?? 'dns' };
  }
  if (d.name === HOST_INTERNAL_NAME) d = { ...d, name: null, nameSource: null };
  if (ip === null) return d.name === null ? d : null;
  if (d.name !== null && (d.nameSource === 'sni' || d.nameSource === 'http-host')) {
    return nameCache.has(ip, d.name) ? { ...d, ip } : null;
  }
  if (d.name !== null) return { ...d, ip };
  return namedByDns(d, ip, nameCache);
}

/** namedByDns is an address with the name the VM's DNS gave it, if any. */
function namedByDns(d: Destination, ip: string, nameCache: NameCache): Destination {
  const fromDns = nameCache.lookup(ip);
  return { ...d, ip, name: fromDns, nameSource: fromDns ? 'dns' : null };
}

/** nameBelongsTo tells whether the resolver answers `ip` for `name` now (the VM's DNS answers were checked first). */
async function nameBelongsTo(name: string, ip: string, sources: NameSources): Promise<boolean> {
  const addresses = await sources.resolveHost(name).catch(() => [] as string[]);
  return addresses.some((address) => canonicalIp(address) === ip);
}

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
  const ip = d.ip === null ? null : canonicalIp(d.ip);
  if (ip === HOST_INTERNAL_IP || (ip === null && d.name === HOST_INTERNAL_NAME)) {
    return { ...d, ip: HOST_INTERNAL_IP, name: HOST_INTERNAL_NAME, nameSource: d.nameSource ?? 'dns' };
  }
  if (d.name === HOST_INTERNAL_NAME) d = { ...d, name: null, nameSource: null };
  if (ip === null && d.name !== null) {
    const addresses = await sources.resolveHost(d.name).catch(() => [] as string[]);
    return { ...d, ip: addresses[0] ?? null };
  }
  if (ip === null) return d;
  if (d.name !== null && (d.nameSource === 'sni' || d.nameSource === 'http-host')) {
    if (await nameBelongsTo(d.name, ip, sources)) return { ...d, ip };
  } else if (d.name !== null) {
    return { ...d, ip };
  }
  const fromDns = sources.nameCache.lookup(ip);
  return { ...d, ip, name: fromDns, nameSource: fromDns ? 'dns' : null };
}

/** nameBelongsTo tells whether the VM's DNS answered `ip` for `name`, or the resolver does now. */
async function nameBelongsTo(name: string, ip: string, sources: NameSources): Promise<boolean> {
  if (sources.nameCache.has(ip, name)) return true;
  const addresses = await sources.resolveHost(name).catch(() => [] as string[]);
  return addresses.some((address) => canonicalIp(address) === ip);
}

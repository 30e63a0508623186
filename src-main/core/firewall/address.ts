// Runs in: plain Node (core).
import { networkInterfaces } from 'node:os';
import { nodeNet } from '../builtins';

/**
 * address.ts holds the IP and host-name helpers the firewall shares: every
 * address is compared in one canonical text form, so "::FFFF:10.0.0.1",
 * "10.0.0.1" and "0:0::ffff:a00:1" are the same destination.
 */

export interface ParsedIp {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

/** parseIp returns the bytes of an IPv4 or IPv6 address (zone ids dropped), or null. */
export function parseIp(text: string): ParsedIp | null {
  const bare = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  if (nodeNet().isIPv4(bare)) return { family: 4, bytes: Uint8Array.from(bare.split('.').map(Number)) };
  if (!nodeNet().isIPv6(bare)) return null;
  let body = bare;
  const lastColon = body.lastIndexOf(':');
  const tail = body.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    body = `${body.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = body.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...new Array<string>(zeros).fill('0'), ...restGroups];
  if (groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return { family: 6, bytes };
}

/** CANONICAL_IPV4 is dotted IPv4 already in canonical form (no leading zeros); the common case needs no parsing. */
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * canonicalIp renders an address in the one form rules and logs use: dotted
 * IPv4 (IPv4-mapped IPv6 included) or compressed lower-case IPv6. Null when
 * `text` is not an address.
 */
export function canonicalIp(text: string): string | null {
  if (CANONICAL_IPV4.test(text)) return text;
  const parsed = parseIp(text);
  if (!parsed) return null;
  return formatIpBytes(parsed);
}

export function formatIpBytes(ip: ParsedIp): string {
  const b = ip.bytes;
  if (ip.family === 4) return Array.from(b).join('.');
  const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (mapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((b[i] ?? 0) << 8) | (b[i + 1] ?? 0)).toString(16));
  // new URL() applies RFC 5952 compression (longest run of zero groups becomes "::").
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** ipBytes is canonicalIp's byte form: IPv4-mapped IPv6 collapses to IPv4. */
export function ipBytes(text: string): ParsedIp | null {
  const canonical = canonicalIp(text);
  return canonical === null ? null : parseIp(canonical);
}

/** inPrefix tells whether `ip` lies in the network `net`/`prefix` of the same family. */
export function inPrefix(ip: ParsedIp, net: ParsedIp, prefix: number): boolean {
  if (ip.family !== net.family) return false;
  const whole = prefix >> 3;
  for (let i = 0; i < whole; i++) if (ip.bytes[i] !== net.bytes[i]) return false;
  const bits = prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((ip.bytes[whole] ?? 0) & mask) === ((net.bytes[whole] ?? 0) & mask);
}

/** maskToPrefix zeroes the host bits of `ip` beyond `prefix`. */
export function maskToPrefix(ip: ParsedIp, prefix: number): ParsedIp {
  const bytes = Uint8Array.from(ip.bytes);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return { family: ip.family, bytes };
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * normalizeHostname lower-cases a DNS name and drops a trailing dot; null when
 * it is not a plausible host name (bad characters, empty labels, too long) or
 * is an IP literal. Names from the guest (SOCKS, SNI, Host) pass through here,
 * so nothing hostile reaches a rule, a prompt or a log unchecked.
 */
export function normalizeHostname(text: string): string | null {
  let name = text.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length === 0 || name.length > 253) return null;
  if (parseIp(name)) return null;
  for (const label of name.split('.')) if (!LABEL.test(label)) return null;
  return name;
}

/**
 * embeddedIpv4 returns the IPv4 address an IPv6 address carries in its last
 * four bytes by a well-known convention, or null: IPv4-mapped (::ffff:a.b.c.d,
 * already collapsed by canonicalIp), IPv4-compatible (::a.b.c.d), IPv4-
 * translated (::ffff:0:a.b.c.d) and the NAT64 prefix (64:ff9b::a.b.c.d).
 */
function embeddedIpv4(ip: ParsedIp): ParsedIp | null {
  if (ip.family !== 6) return null;
  const b = ip.bytes;
  const zeros = (from: number, to: number): boolean => b.slice(from, to).every((x) => x === 0);
  const compatible = zeros(0, 12) && !(zeros(12, 15) && (b[15] ?? 0) <= 1);
  const translated = zeros(0, 8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0;
  const nat64 = b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12);
  return compatible || translated || nat64 ? { family: 4, bytes: b.slice(12, 16) } : null;
}

function isLoopbackOrUnspecified(ip: ParsedIp): boolean {
  if (ip.family === 4) return ip.bytes[0] === 127 || ip.bytes[0] === 0;
  return ip.bytes.slice(0, 15).every((x) => x === 0) && (ip.bytes[15] === 0 || ip.bytes[15] === 1);
}

/**
 * isHostLocal tells whether connecting to `ip` from the host would reach the
 * host itself: loopback or unspecified, or one of `ownAddresses` (the host's
 * interface addresses, canonical), in any spelling, IPv4 embedded in IPv6
 * included. The guest reaches the host only through host.xray.internal,
 * never by naming these addresses.
 */
export function isHostLocal(ip: string, ownAddresses: ReadonlySet<string> = new Set()): boolean {
  const parsed = ipBytes(ip);
  if (!parsed) return false;
  const forms = [parsed, embeddedIpv4(parsed)].filter((form): form is ParsedIp => form !== null);
  return forms.some((form) => isLoopbackOrUnspecified(form) || ownAddresses.has(formatIpBytes(form)));
}

const OWN_ADDRESSES_REFRESH_MS = 5000;
let ownAddresses: { readonly at: number; readonly set: ReadonlySet<string> } | null = null;

/**
 * hostOwnAddresses lists the host's interface addresses, canonical, read
 * again every few seconds so a VPN or Wi-Fi change is seen: a service bound
 * to 0.0.0.0 answers on all of them, so each is the host.
 */
export function hostOwnAddresses(now = Date.now()): ReadonlySet<string> {
  if (ownAddresses && now - ownAddresses.at < OWN_ADDRESSES_REFRESH_MS) return ownAddresses.set;
  const set = new Set<string>();
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      const ip = canonicalIp(entry.address);
      if (ip) set.add(ip);
    }
  }
  ownAddresses = { at: now, set };
  return set;
}

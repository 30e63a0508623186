// Runs in: plain Node (core). Firewall rule targets: reading them as users
// write them and vm.toml stores them, and telling which destinations they cover.
import type { Destination, HttpMatch, RuleTarget } from '../../shared/models';
import { HTTP_METHODS, PATH_PATTERN } from '../../shared/scopes';
import { XrayError } from '../../shared/errors';
import { canonicalIp, formatIpBytes, hostOwnAddresses, inPrefix, ipBytes, isHostLocal, maskToPrefix, normalizeHostname, parseIp } from './address';

/**
 * parseRuleTarget reads a rule target as users write it and vm.toml stores it:
 *   1.2.3.4:443   1.2.3.4   [2001:db8::1]:443   2001:db8::1
 *   10.0.0.0/8    10.0.0.0/8:22   [2001:db8::/32]:443
 *   example.com   example.com:443   *.example.com   *.example.com:443
 * A port of `*` (or none) means any port. The original tool's `"IP:PORT"`
 * keys are the first form, so its files load unchanged.
 * A name target may be followed by an HTTP match, methods and/or a path
 * pattern, separated by spaces (a target itself has none, so older files
 * read as before):
 *   api.github.com GET,POST /repos/acme/*   api.github.com:443 /v1/*   *.example.com DELETE
 */
export function parseRuleTarget(text: string): RuleTarget {
  const target = tryParseRuleTarget(text);
  if (!target) {
    throw new XrayError(
      'invalid-argument',
      `"${text}" is not a firewall target; use HOST, HOST:PORT, *.DOMAIN, an IP, [IPv6]:PORT or a CIDR like 10.0.0.0/8:22, and after a host name optionally METHODS and a /PATH like "api.github.com GET,POST /repos/acme/*".`,
    );
  }
  return target;
}

/**
 * parseUserRuleTarget is parseRuleTarget for a rule a person adds: a target
 * naming the host's own address can never match (the firewall refuses those
 * addresses whatever the rules say), so it is refused with the way that works.
 */
export function parseUserRuleTarget(text: string): RuleTarget {
  const target = parseRuleTarget(text);
  if (target.kind === 'ip' && isHostLocal(target.ip, hostOwnAddresses())) {
    const port = target.port === null ? '' : `:${target.port}`;
    throw new XrayError(
      'invalid-argument',
      `"${text}" is this computer itself, which a VM can reach only as host.xray.internal; add a rule for host.xray.internal${port} instead.`,
    );
  }
  return target;
}

/** tryParseRuleTarget is parseRuleTarget returning null instead of throwing. */
export function tryParseRuleTarget(text: string): RuleTarget | null {
  const [hostText = '', ...httpWords] = text.trim().split(/\s+/);
  const target = tryParseHostTarget(hostText);
  if (target === null || httpWords.length === 0) return target;
  if (target.kind !== 'domain' && target.kind !== 'domain-suffix') return null;
  const http = parseHttpMatch(httpWords);
  return http === null ? null : { ...target, http };
}

/**
 * parseHttpMatch reads the words after a host: `METHODS`, `/PATH` or
 * `METHODS /PATH`. Methods are case-insensitive as written and stored upper
 * case, without repeats; the path keeps its case (paths are case-sensitive).
 */
function parseHttpMatch(words: readonly string[]): HttpMatch | null {
  let methods: string[] | null = null;
  let path: string | null = null;
  const [first = '', second] = words;
  if (words.length > 2) return null;
  if (first.startsWith('/')) {
    if (second !== undefined) return null;
    path = first;
  } else {
    methods = [...new Set(first.toUpperCase().split(','))].sort();
    if (!methods.every((m) => HTTP_METHODS.has(m))) return null;
    if (second !== undefined) path = second;
  }
  if (path !== null && !PATH_PATTERN.test(path)) return null;
  return { methods, path };
}

function tryParseHostTarget(text: string): RuleTarget | null {
  const t = text.toLowerCase();
  let host: string;
  let portText: string | null = null;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close === -1) return null;
    host = t.slice(1, close);
    const rest = t.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return null;
      portText = rest.slice(1);
    }
    if (!host.includes(':')) return null;
  } else if ((t.match(/:/g) ?? []).length >= 2) {
    host = t;
  } else {
    const colon = t.lastIndexOf(':');
    host = colon === -1 ? t : t.slice(0, colon);
    portText = colon === -1 ? null : t.slice(colon + 1);
  }
  let port: number | null = null;
  if (portText !== null && portText !== '*') {
    if (!/^\d{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port < 1 || port > 65535) return null;
  }
  if (host.includes('/')) {
    const [netText = '', prefixText = ''] = host.split('/');
    const net = parseIp(netText);
    if (!net || !/^\d{1,3}$/.test(prefixText)) return null;
    const prefix = Number(prefixText);
    if (prefix > (net.family === 4 ? 32 : 128)) return null;
    return { kind: 'cidr', cidr: `${formatIpBytes(maskToPrefix(net, prefix))}/${prefix}`, port };
  }
  const ip = canonicalIp(host);
  if (ip) return { kind: 'ip', ip, port };
  if (host.startsWith('*.')) {
    const domain = normalizeHostname(host.slice(2));
    return domain ? { kind: 'domain-suffix', domain, port } : null;
  }
  const domain = normalizeHostname(host);
  return domain ? { kind: 'domain', domain, port } : null;
}

/**
 * targetMatches tells whether `target` covers `dest`: IP and CIDR targets
 * look at the destination's address, domain targets at its name.
 */
export function targetMatches(target: RuleTarget, dest: Destination): boolean {
  if (target.port !== null && target.port !== dest.port) return false;
  switch (target.kind) {
    case 'ip':
      return dest.ip !== null && canonicalIp(dest.ip) === target.ip;
    case 'cidr': {
      if (dest.ip === null) return false;
      const ip = ipBytes(dest.ip);
      const [netText = '', prefix = '0'] = target.cidr.split('/');
      const net = parseIp(netText);
      return ip !== null && net !== null && inPrefix(ip, net, Number(prefix));
    }
    case 'domain':
      return dest.name !== null && dest.name === target.domain;
    case 'domain-suffix':
      return dest.name !== null && (dest.name === target.domain || dest.name.endsWith(`.${target.domain}`));
  }
}

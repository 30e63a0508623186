// Runs in: plain Node (core).
import type { Destination, FirewallRule, HttpMatch, RuleAction, RuleLifetime, RuleTarget } from '../../shared/models';
import { HTTP_METHODS, PATH_PATTERN, formatRuleTarget } from '../../shared/scopes';
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

/**
 * specificity ranks rules so the most specific match wins. Order, highest first:
 *   6 exact host (IP or domain) with port      example.com:443, 1.2.3.4:443
 *   5 exact host, any port                     example.com, 1.2.3.4
 *   4 *.domain with port (longer suffix first) *.example.com:443
 *   3 *.domain, any port (longer suffix first) *.example.com
 *   2 CIDR with port (longer prefix first)     10.0.0.0/8:22
 *   1 CIDR, any port (longer prefix first)     10.0.0.0/8
 *   0 defaults file entries, always last
 * Between equally specific matches, deny wins.
 */
export function specificity(rule: FirewallRule): [tier: number, within: number] {
  if (rule.source === 'default') return [0, 0];
  const t = rule.target;
  const withPort = t.port !== null ? 1 : 0;
  switch (t.kind) {
    case 'ip':
    case 'domain':
      return [5 + withPort, 0];
    case 'domain-suffix':
      return [3 + withPort, t.domain.split('.').length];
    case 'cidr':
      return [1 + withPort, Number(t.cidr.split('/')[1])];
  }
}

function outranks(a: FirewallRule, b: FirewallRule): boolean {
  const [ta, wa] = specificity(a);
  const [tb, wb] = specificity(b);
  if (ta !== tb) return ta > tb;
  if (wa !== wb) return wa > wb;
  return a.action === 'deny' && b.action === 'allow';
}

export interface RuleInput {
  readonly target: RuleTarget;
  readonly action: RuleAction;
  readonly lifetime: RuleLifetime;
  readonly source?: 'vm' | 'session';
}

export interface RuleMatch {
  readonly rule: FirewallRule;
  readonly action: RuleAction;
}

/** isHttpRule tells whether a rule decides HTTP requests (it has an HTTP match) rather than connections. */
export function isHttpRule(rule: FirewallRule): boolean {
  return (rule.target.kind === 'domain' || rule.target.kind === 'domain-suffix') && rule.target.http !== undefined;
}

/** isPersistent tells whether a rule belongs in vm.toml (forever or for a duration). */
export function isPersistent(rule: FirewallRule): boolean {
  return rule.source !== 'default' && (rule.lifetime.kind === 'forever' || rule.lifetime.kind === 'duration');
}

/**
 * RuleSet is one VM's rules in memory. A user rule's id is its canonical
 * target text, so there is one rule per target and adding a rule for a target
 * replaces the old one; default rules are ids `default:TARGET`.
 */
export class RuleSet {
  private readonly rules = new Map<string, FirewallRule>();
  private defaults: FirewallRule[] = [];

  constructor(rules: readonly FirewallRule[] = [], defaults: readonly string[] = []) {
    for (const rule of rules) this.rules.set(rule.id, rule);
    this.setDefaults(defaults);
  }

  /** add stores a rule (replacing the rule for the same target) and returns it. */
  add(input: RuleInput): FirewallRule {
    const id = formatRuleTarget(input.target);
    const rule: FirewallRule = {
      id,
      target: input.target,
      action: input.action,
      lifetime: input.lifetime,
      source: input.source ?? (input.lifetime.kind === 'forever' || input.lifetime.kind === 'duration' ? 'vm' : 'session'),
    };
    this.rules.set(id, rule);
    return rule;
  }

  remove(id: string): boolean {
    return this.rules.delete(id);
  }

  /** clear drops every user rule; defaults stay. */
  clear(): void {
    this.rules.clear();
  }

  /** replacePersisted swaps in the rules read from vm.toml, keeping session rules. */
  replacePersisted(rules: readonly FirewallRule[]): void {
    for (const [id, rule] of this.rules) if (rule.source === 'vm') this.rules.delete(id);
    for (const rule of rules) this.rules.set(rule.id, rule);
  }

  /**
   * setDefaults replaces the default allow rules: each entry of the defaults
   * file allows that domain and its sub-domains (or the exact target written).
   */
  setDefaults(entries: readonly string[]): void {
    this.defaults = entries.map((entry) => {
      let target = parseRuleTarget(entry);
      if (target.kind === 'domain') target = { kind: 'domain-suffix', domain: target.domain, port: target.port };
      return {
        id: `default:${formatRuleTarget(target)}`,
        target,
        action: 'allow',
        lifetime: { kind: 'forever' },
        source: 'default',
      } satisfies FirewallRule;
    });
  }

  /** list returns the live rules (expired ones are pruned), user rules first. */
  list(now: number = Date.now()): FirewallRule[] {
    this.prune(now);
    return [...this.rules.values(), ...this.defaults];
  }

  /** persistent returns the rules that belong in vm.toml. */
  persistent(now: number = Date.now()): FirewallRule[] {
    this.prune(now);
    return [...this.rules.values()].filter(isPersistent);
  }

  /**
   * match returns the rule deciding `dest` (see `specificity`), or null. A
   * `once` rule is consumed by the match that uses it.
   */
  match(dest: Destination, now: number = Date.now()): RuleMatch | null {
    this.prune(now);
    let best: FirewallRule | null = null;
    for (const rule of [...this.rules.values(), ...this.defaults]) {
      if (isHttpRule(rule) || !targetMatches(rule.target, dest)) continue;
      if (best === null || outranks(rule, best)) best = rule;
    }
    if (best === null) return null;
    if (best.lifetime.kind === 'once') this.rules.delete(best.id);
    return { rule: best, action: best.action };
  }

  /**
   * httpRules returns the rules with an HTTP match that cover `dest` by name
   * and port: they decide its requests one by one (see http-rules.ts), and
   * a destination that has any is intercepted. `match` never returns them.
   */
  httpRules(dest: Destination, now: number = Date.now()): FirewallRule[] {
    this.prune(now);
    return [...this.rules.values()].filter((rule) => isHttpRule(rule) && targetMatches(rule.target, dest));
  }

  /** vmStopped drops the rules that last only while the VM runs. */
  vmStopped(): void {
    for (const [id, rule] of this.rules) {
      if (rule.lifetime.kind === 'until-stop' || rule.lifetime.kind === 'once') this.rules.delete(id);
    }
  }

  private prune(now: number): void {
    for (const [id, rule] of this.rules) {
      if (rule.lifetime.kind === 'duration' && Date.parse(rule.lifetime.until) <= now) this.rules.delete(id);
    }
  }
}

export type FirewallTableEntry = RuleAction | { action: RuleAction; expires: string };

/** toFirewallTable renders persistent rules as vm.toml's [firewall] table. */
export function toFirewallTable(rules: readonly FirewallRule[]): Record<string, FirewallTableEntry> {
  const table: Record<string, FirewallTableEntry> = {};
  for (const rule of rules) {
    if (!isPersistent(rule)) continue;
    const key = formatRuleTarget(rule.target);
    table[key] = rule.lifetime.kind === 'duration' ? { action: rule.action, expires: rule.lifetime.until } : rule.action;
  }
  return table;
}

export interface FirewallTableRead {
  readonly rules: FirewallRule[];
  /** problems names entries that were skipped, one sentence each. */
  readonly problems: string[];
}

/**
 * fromFirewallTable reads vm.toml's [firewall] table. Entries that expired are
 * dropped silently; entries that cannot be understood are skipped and named
 * in `problems` so one bad line does not disable the whole firewall.
 */
export function fromFirewallTable(table: Record<string, unknown>, now: number = Date.now()): FirewallTableRead {
  const rules: FirewallRule[] = [];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(table)) {
    const target = tryParseRuleTarget(key);
    if (!target) {
      problems.push(`Firewall rule "${key}" has a target that cannot be read; fix or remove it in vm.toml.`);
      continue;
    }
    let action: unknown = value;
    let lifetime: RuleLifetime = { kind: 'forever' };
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const entry = value as { action?: unknown; expires?: unknown };
      action = entry.action;
      if (entry.expires !== undefined) {
        const expires = entry.expires instanceof Date ? entry.expires.getTime() : Date.parse(String(entry.expires));
        if (Number.isNaN(expires)) {
          problems.push(`Firewall rule "${key}" has an expiry that is not a date; fix or remove it in vm.toml.`);
          continue;
        }
        if (expires <= now) continue;
        lifetime = { kind: 'duration', until: new Date(expires).toISOString() };
      }
    }
    if (action !== 'allow' && action !== 'deny') {
      problems.push(`Firewall rule "${key}" must be "allow" or "deny"; fix or remove it in vm.toml.`);
      continue;
    }
    rules.push({ id: formatRuleTarget(target), target, action, lifetime, source: 'vm' });
  }
  return { rules, problems };
}

/**
 * parseDefaultRules reads default-firewall-rules.conf: one domain suffix (or
 * any rule target) per line; blank lines and `#` comments are ignored, and
 * lines that are not targets are reported rather than guessed at.
 */
export function parseDefaultRules(text: string): { entries: string[]; problems: string[] } {
  const entries: string[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const target = tryParseRuleTarget(line);
    if (target && 'http' in target) problems.push(`Line ${index + 1} of the default firewall rules ("${line}") has methods or a path, which only a VM's rules may have; keep the host alone.`);
    else if (target) entries.push(line);
    else problems.push(`Line ${index + 1} of the default firewall rules ("${line}") is not a target; fix or remove it.`);
  });
  return { entries, problems };
}

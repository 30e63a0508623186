// Runs in: plain Node (core).
import type { Destination, FirewallRule, HttpMatch, RuleAction } from '../../shared/models';
import { type RuleSet, specificity } from './rules';

/**
 * http-rules decides one HTTP request on an intercepted connection by the
 * rules with an HTTP match (`api.github.com GET,POST /repos/acme/*`). The
 * path a rule sees is the normalized path, and the normalized path is what
 * is sent on: `/repos/acme/../other` is `/repos/other` for the rule and for
 * the server alike, so no spelling of a path slips past a rule.
 */

export interface HttpRuleMatch {
  readonly rule: FirewallRule;
  readonly action: RuleAction;
}

/** UNRESERVED are the characters RFC 3986 says may be percent-encoded or not with the same meaning. */
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * normalizeRequestPath turns a request target in origin form (`/a/b?q`) into
 * the path rules match and the target sent upstream: percent-encoded
 * unreserved characters decoded, other percent-encodings upper-cased, dot
 * segments removed (RFC 3986 section 5.2.4). The query is kept as it is.
 * Returns null for anything else: absolute form, `*`, a bad percent-encoding,
 * a backslash or a control character, which servers read in different ways.
 */
export function normalizeRequestPath(target: string): { path: string; query: string } | null {
  if (!target.startsWith('/')) return null;
  const q = target.indexOf('?');
  const rawPath = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q);
  if (/[\\\s#]/.test(rawPath) || hasControlCharacter(rawPath)) return null;
  let decoded = '';
  for (let i = 0; i < rawPath.length; i++) {
    const ch = rawPath[i] as string;
    if (ch !== '%') {
      decoded += ch;
      continue;
    }
    const hex = rawPath.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
    const byte = String.fromCharCode(parseInt(hex, 16));
    decoded += UNRESERVED.test(byte) ? byte : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return { path: removeDotSegments(decoded), query };
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** removeDotSegments is RFC 3986's algorithm over `/`-separated segments; the path stays absolute. */
function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/').slice(1);
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..') out.pop();
      if (last) out.push('');
      return;
    }
    out.push(segment);
  });
  return `/${out.join('/')}`;
}

/**
 * pathMatches tells whether a normalized path fits a rule's pattern, where
 * `*` is any run of characters (slashes included) and everything else is
 * literal. The pattern is normalized like a path first, so `%7E` in a rule
 * matches `~` in a request.
 */
export function pathMatches(pattern: string, path: string): boolean {
  const normalized = normalizeRequestPath(pattern)?.path ?? pattern;
  const source = normalized
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(path);
}

/** httpMatchCovers tells whether an HTTP match covers a request's method and normalized path. */
export function httpMatchCovers(match: HttpMatch, method: string, path: string): boolean {
  if (match.methods !== null && !match.methods.includes(method)) return false;
  return match.path === null || pathMatches(match.path, path);
}

/**
 * httpRank orders HTTP rules that cover one request, most specific first:
 * the host part as connection rules rank it (exact name over `*.domain`,
 * with port over without), then the longer literal part of the path pattern
 * (no pattern ranks below any), then a method set over any method.
 */
function httpRank(rule: FirewallRule): number[] {
  const [tier, within] = specificity(rule);
  const http = 'http' in rule.target ? rule.target.http : undefined;
  const literal = http === undefined || http.path === null ? -1 : http.path.replaceAll('*', '').length;
  return [tier, within, literal, http?.methods ? 1 : 0];
}

/**
 * matchHttpRule returns the rule deciding a request among `rules` (those
 * with an HTTP match for the request's host), or null when none covers it;
 * between equally specific rules, deny wins. `path` must be normalized.
 */
export function matchHttpRule(rules: readonly FirewallRule[], method: string, path: string): HttpRuleMatch | null {
  let best: FirewallRule | null = null;
  let bestRank: number[] = [];
  for (const rule of rules) {
    const http = 'http' in rule.target ? rule.target.http : undefined;
    if (!http || !httpMatchCovers(http, method, path)) continue;
    const rank = httpRank(rule);
    const order = compareRanks(rank, bestRank);
    if (best === null || order > 0 || (order === 0 && rule.action === 'deny' && best.action === 'allow')) {
      best = rule;
      bestRank = rank;
    }
  }
  return best === null ? null : { rule: best, action: best.action };
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * matchHttpRequest decides a request to `dest` by a VM's rules: the most
 * specific HTTP rule covering it, or null when none does. A `once` rule is
 * consumed by the request it decides, as connection rules are.
 */
export function matchHttpRequest(rules: RuleSet, dest: Destination, method: string, path: string, now: number = Date.now()): HttpRuleMatch | null {
  const match = matchHttpRule(rules.httpRules(dest, now), method, path);
  if (match?.rule.lifetime.kind === 'once') rules.remove(match.rule.id);
  return match;
}

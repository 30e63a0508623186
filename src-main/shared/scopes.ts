// Runs in: anywhere (pure; shared by core, CLI and renderer). No Node or DOM APIs.
import type { Destination, FirewallPrompt, HttpMatch, HttpRequestLine, PromptScope, RuleTarget } from './models';

/**
 * formatRuleTarget is the canonical text of a rule target, as vm.toml stores
 * it and every surface shows it: `1.2.3.4:443`, `[2001:db8::1]:443`,
 * `example.com`, `*.example.com:443`, `10.0.0.0/8:22`, and a host with an
 * HTTP match: `api.github.com GET,POST /repos/acme/*`.
 */
export function formatRuleTarget(target: RuleTarget): string {
  const host = formatHostTarget(target);
  if ((target.kind === 'domain' || target.kind === 'domain-suffix') && target.http) return `${host} ${formatHttpMatch(target.http)}`;
  return host;
}

/**
 * formatHttpMatch is the canonical text of an HTTP match: the methods,
 * upper case and sorted, comma-separated, then the path pattern; either may
 * be missing (any method, any path).
 */
export function formatHttpMatch(match: HttpMatch): string {
  const parts: string[] = [];
  if (match.methods !== null) parts.push([...match.methods].sort().join(','));
  if (match.path !== null) parts.push(match.path);
  return parts.join(' ');
}

/**
 * HTTP_METHODS are the methods a rule may name: RFC 9110's, PATCH, and
 * WebDAV's. A closed list, so a typo is refused rather than written as a
 * rule no request matches, and an old entry such as "odd entry" stays the
 * unreadable entry it was.
 */
export const HTTP_METHODS: ReadonlySet<string> = new Set([
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'REPORT', 'SEARCH',
]);

/**
 * PATH_PATTERN is what a rule's path pattern may be: an absolute path of
 * RFC 3986 path characters (percent-encodings whole) and `*`; no query or
 * fragment, since a rule matches the path alone.
 */
export const PATH_PATTERN = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;

function formatHostTarget(target: RuleTarget): string {
  const withPort = (host: string, bracket: boolean): string => {
    if (target.port === null) return host;
    return bracket ? `[${host}]:${target.port}` : `${host}:${target.port}`;
  };
  switch (target.kind) {
    case 'ip':
      return withPort(target.ip, target.ip.includes(':'));
    case 'cidr':
      return withPort(target.cidr, target.cidr.includes(':'));
    case 'domain':
      return withPort(target.domain, false);
    case 'domain-suffix':
      return withPort(`*.${target.domain}`, false);
  }
}

/** ruleTargetLabel is a target as a person reads it in a list: "example.com:443", "*.example.com, any port". */
export function ruleTargetLabel(target: RuleTarget): string {
  const text = formatRuleTarget(target);
  return target.port === null ? `${text}, any port` : text;
}

/**
 * registrableSuffix picks the suffix a `*.` rule should cover for `name`: its
 * parent (api.github.com → github.com), but never a bare TLD nor a two-label
 * public suffix such as co.uk (judged without a public-suffix list: a short
 * second label under a two-letter TLD), in which cases the name itself is used.
 */
export function registrableSuffix(name: string): string {
  const labels = name.split('.');
  if (labels.length <= 2) return name;
  const parent = labels.slice(1);
  if (parent.length === 2 && (parent[1] ?? '').length === 2 && (parent[0] ?? '').length <= 3) return name;
  return parent.join('.');
}

/**
 * targetForScope is the rule an answer to a prompt writes; each scope covers
 * exactly what its label (scopeChoices) says:
 *   host-port      the destination as the prompt names it, on its port: example.com:443, else 1.2.3.4:443
 *   domain         the name on any port: example.com
 *   domain-suffix  the name's parent and all its sub-domains, any port: *.example.com
 *   any-port       the address on any port: 1.2.3.4
 * A scope the destination cannot have (a name scope without a name, an
 * address scope without an address) falls back to what it does have; null
 * when there is nothing to make a rule from, or for a request's scope
 * (promptTarget has those). `d.ip` is canonical (the firewall identified it).
 */
export function targetForScope(d: Destination, scope: PromptScope): RuleTarget | null {
  const byIp = (port: number | null): RuleTarget | null => (d.ip !== null ? { kind: 'ip', ip: d.ip, port } : null);
  const byName = (port: number | null): RuleTarget | null => (d.name !== null ? { kind: 'domain', domain: d.name, port } : null);
  switch (scope) {
    case 'host-port':
      return byName(d.port) ?? byIp(d.port);
    case 'domain':
      return byName(null) ?? byIp(null);
    case 'domain-suffix':
      return d.name !== null ? { kind: 'domain-suffix', domain: registrableSuffix(d.name), port: null } : byIp(null);
    case 'any-port':
      return byIp(null) ?? byName(null);
    default:
      return null;
  }
}

export interface ScopeChoice {
  readonly scope: PromptScope;
  /** label is the rule the choice writes, in words a person reads at a glance. */
  readonly label: string;
}

/**
 * scopeChoices lists the scopes that make sense for a destination, each
 * labelled with the rule it would write; scopes whose rule would repeat an
 * earlier one are left out.
 */
export function scopeChoices(d: Destination): ScopeChoice[] {
  const choices: ScopeChoice[] = [];
  const seen = new Set<string>();
  const scopes: readonly PromptScope[] = ['host-port', 'domain', 'domain-suffix', 'any-port'];
  for (const scope of scopes) {
    if ((scope === 'domain' || scope === 'domain-suffix') && d.name === null) continue;
    if (scope === 'any-port' && d.ip === null) continue;
    const target = targetForScope(d, scope);
    if (target === null) continue;
    const text = formatRuleTarget(target);
    if (seen.has(text)) continue;
    seen.add(text);
    choices.push({ scope, label: ruleTargetLabel(target) });
  }
  return choices;
}

/** PromptQuestion is what an answer's scope applies to: the destination, and the HTTP request when the prompt is about one. */
export type PromptQuestion = Pick<FirewallPrompt, 'destination' | 'request'>;

/** REQUEST_SCOPES are the scopes of a prompt about an HTTP request; the others belong to a prompt about a connection. */
export const REQUEST_SCOPES: readonly PromptScope[] = ['request', 'request-prefix', 'request-path', 'request-host'];
const CONNECTION_SCOPES: readonly PromptScope[] = ['host-port', 'domain', 'domain-suffix', 'any-port'];

/** scopesOf lists the scopes a prompt can be answered with, narrowest first. */
export function scopesOf(prompt: PromptQuestion): readonly PromptScope[] {
  return prompt.request === undefined ? CONNECTION_SCOPES : REQUEST_SCOPES;
}

/** defaultScope is what an answer that names no scope covers: the narrowest the prompt has. */
export function defaultScope(prompt: PromptQuestion): PromptScope {
  return scopesOf(prompt)[0] as PromptScope;
}

/**
 * promptTarget is the rule an answer with `scope` writes for a prompt, or
 * null when the scope is not one of the prompt's (scopesOf) or there is
 * nothing to make a rule from. For a request on host H (any port, since a
 * request is matched by the name its connection was made for):
 *   request         H METHOD /exact/path
 *   request-prefix  H METHOD /exact/*      (the path's folder)
 *   request-path    H /exact/path          (any method)
 *   request-host    H /*                   (every request)
 * A path a rule cannot spell (characters outside PATH_PATTERN, or a `*`,
 * which a rule reads as a wildcard) is cut there and ends in `*`; a method
 * outside HTTP_METHODS becomes any method. Either way the rule says so.
 */
export function promptTarget(prompt: PromptQuestion, scope: PromptScope): RuleTarget | null {
  if (!scopesOf(prompt).includes(scope)) return null;
  const { destination, request } = prompt;
  if (request === undefined) return targetForScope(destination, scope);
  if (destination.name === null) return null;
  const http = requestMatch(request, scope);
  return { kind: 'domain', domain: destination.name, port: null, http };
}

function requestMatch(request: HttpRequestLine, scope: PromptScope): HttpMatch {
  const methods = HTTP_METHODS.has(request.method) ? [request.method] : null;
  switch (scope) {
    case 'request':
      return { methods, path: rulePath(request.path) };
    case 'request-prefix':
      return { methods, path: folderPattern(request.path) };
    case 'request-path':
      return { methods: null, path: rulePath(request.path) };
    default:
      return { methods: null, path: '/*' };
  }
}

/** SPELLABLE is the longest start of a path a rule can hold literally: PATH_PATTERN's characters without `*`. */
const SPELLABLE = /^(?:[A-Za-z0-9\-._~!$&'()+,;=:@/]|%[0-9A-F]{2})*/;

/** rulePath is `path` as a rule pattern that covers it: itself, or its spellable start and `*`. */
function rulePath(path: string): string {
  const spelled = SPELLABLE.exec(path)?.[0] ?? '';
  if (spelled.length === path.length && path.startsWith('/')) return path;
  return `${spelled.startsWith('/') ? spelled : '/'}*`;
}

/** folderPattern is the path's folder and everything below it: /repos/acme/issues → /repos/acme/*. */
function folderPattern(path: string): string {
  const folder = rulePath(path.slice(0, path.lastIndexOf('/') + 1) || '/');
  return folder.endsWith('*') ? folder : `${folder}*`;
}

/**
 * promptScopeChoices lists the scopes that make sense for a prompt, each
 * labelled with the rule it would write, leaving out those that would
 * repeat an earlier one. A request's labels are the rule's own text.
 */
export function promptScopeChoices(prompt: PromptQuestion): ScopeChoice[] {
  if (prompt.request === undefined) return scopeChoices(prompt.destination);
  const choices: ScopeChoice[] = [];
  const seen = new Set<string>();
  for (const scope of REQUEST_SCOPES) {
    const target = promptTarget(prompt, scope);
    if (target === null) continue;
    const text = formatRuleTarget(target);
    if (seen.has(text)) continue;
    seen.add(text);
    choices.push({ scope, label: text });
  }
  return choices;
}

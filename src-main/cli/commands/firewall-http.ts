// Runs in: plain Node (CLI). HTTP rules as `xray firewall add … --method
// --path` takes them apart, and as `xray firewall list` shows them.
import { XrayError } from '../../shared/errors';
import type { RuleTarget } from '../../shared/models';
import { HTTP_METHODS, PATH_PATTERN, formatRuleTarget } from '../../shared/scopes';

/**
 * ADDRESS_TARGET recognizes targets that are addresses rather than names:
 * an IPv4 address (with or without a port), a CIDR, a bracketed or bare
 * IPv6 address. Their connections are not intercepted, so Xray never sees
 * their requests.
 */
const ADDRESS_TARGET = /^(?:\[|[0-9.]+(?::[0-9*]+)?$|[^/]*\/|[^:]*:[^:]*:)/;

/** COMMON_METHODS are the methods an error names as examples. */
const COMMON_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS';

/**
 * httpRuleTarget builds the rule target `firewall add` sends from a host
 * target and its `--method` values (each one method or several separated by
 * commas, any case) and `--path` pattern: `api.github.com` + `GET,post` +
 * `/repos/acme/*` → `api.github.com GET,POST /repos/acme/*`. Without either
 * option the target goes as it is. Throws one sentence for what cannot be
 * an HTTP rule.
 */
export function httpRuleTarget(target: string, methods: readonly string[], path: string | undefined): string {
  if (methods.length === 0 && path === undefined) return target;
  const refuse = (problem: string): never => {
    throw new XrayError('invalid-argument', problem);
  };
  const host = target.trim();
  if (/\s/.test(host)) refuse(`"${target}" already has methods or a path; give them either in the target or with --method and --path.`);
  if (ADDRESS_TARGET.test(host)) {
    refuse(`--method and --path need a host name such as api.github.com, and "${host}" is an address, whose connections Xray does not open to read their requests.`);
  }
  const parts = [host];
  if (methods.length > 0) parts.push(methodList(methods));
  if (path !== undefined) parts.push(pathPattern(path));
  return parts.join(' ');
}

function methodList(values: readonly string[]): string {
  const words = values.flatMap((value) => value.split(',')).map((word) => word.trim().toUpperCase());
  if (words.some((word) => word === '')) throw new XrayError('invalid-argument', '--method takes method names separated by commas, like GET,POST.');
  const unknown = words.find((word) => !HTTP_METHODS.has(word));
  if (unknown !== undefined) throw new XrayError('invalid-argument', `"${unknown}" is not an HTTP method; use ${COMMON_METHODS}.`);
  return [...new Set(words)].sort().join(',');
}

function pathPattern(path: string): string {
  const refuse = (problem: string): never => {
    throw new XrayError('invalid-argument', problem);
  };
  if (!path.startsWith('/')) refuse(`--path "${path}" must begin with "/", like "/repos/acme/*".`);
  if (/[?#]/.test(path)) refuse(`--path "${path}" has a query or fragment; a rule matches the path alone, so leave out what follows "?" or "#".`);
  if (!PATH_PATTERN.test(path)) {
    refuse(`--path "${path}" has characters a URL path cannot hold as they are; percent-encode them (a space is %20) and use * for any run of characters.`);
  }
  return path;
}

/**
 * requestsText is what a rule covers of a host's HTTP requests, for `firewall
 * list`: `GET,POST /repos/acme/*`, `any method /v1/*`, `DELETE any path`, or
 * `all` for a rule on whole connections.
 */
export function requestsText(target: RuleTarget): string {
  if ((target.kind !== 'domain' && target.kind !== 'domain-suffix') || !target.http) return 'all';
  const { methods, path } = target.http;
  return `${methods === null ? 'any method' : methods.join(',')} ${path ?? 'any path'}`;
}

/** hostText is the host part of a rule's target, without its methods and path: `api.github.com`, `10.0.0.0/8:22`. */
export function hostText(target: RuleTarget): string {
  if (target.kind === 'domain' || target.kind === 'domain-suffix') return formatRuleTarget({ kind: target.kind, domain: target.domain, port: target.port });
  return formatRuleTarget(target);
}

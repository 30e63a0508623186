// Rules with an HTTP match: their text form, their place in vm.toml, and how a request is decided by them.
import { describe, expect, it } from 'vitest';
import type { Destination } from '../../../src-main/shared/models';
import { formatRuleTarget } from '../../../src-main/shared/scopes';
import { parseRuleTarget, tryParseRuleTarget } from '../../../src-main/core/firewall/rule-target';
import { fromFirewallTable, parseDefaultRules, toFirewallTable } from '../../../src-main/core/firewall/rule-table';
import { RuleSet } from '../../../src-main/core/firewall/rules';
import { matchHttpRequest, matchHttpRule, normalizeRequestPath, pathMatches } from '../../../src-main/core/firewall/http-rules';

const dest = (name: string, port = 443): Destination => ({ ip: '192.0.2.7', port, name, nameSource: 'sni', service: null });

describe('rule targets with methods and a path', () => {
  it.each([
    ['api.github.com GET,POST /repos/acme/*', { kind: 'domain', domain: 'api.github.com', port: null, http: { methods: ['GET', 'POST'], path: '/repos/acme/*' } }, 'api.github.com GET,POST /repos/acme/*'],
    ['API.github.com:443 post,get,GET /Repos/*', { kind: 'domain', domain: 'api.github.com', port: 443, http: { methods: ['GET', 'POST'], path: '/Repos/*' } }, 'api.github.com:443 GET,POST /Repos/*'],
    ['api.github.com /v1/*', { kind: 'domain', domain: 'api.github.com', port: null, http: { methods: null, path: '/v1/*' } }, 'api.github.com /v1/*'],
    ['*.example.com DELETE', { kind: 'domain-suffix', domain: 'example.com', port: null, http: { methods: ['DELETE'], path: null } }, '*.example.com DELETE'],
    ['  example.com   GET   /a%2Fb  ', { kind: 'domain', domain: 'example.com', port: null, http: { methods: ['GET'], path: '/a%2Fb' } }, 'example.com GET /a%2Fb'],
  ])('reads %j and writes it back canonically', (text, target, formatted) => {
    expect(parseRuleTarget(text)).toEqual(target);
    expect(formatRuleTarget(parseRuleTarget(text))).toBe(formatted);
    expect(parseRuleTarget(formatted)).toEqual(target);
  });

  it.each([
    '1.2.3.4 GET /x',
    '10.0.0.0/8 GET',
    'example.com GET /x extra',
    'example.com /x GET',
    'example.com GE-T',
    'example.com FETCH /x',
    'odd entry',
    'example.com GET x',
    'example.com GET /a?b=1',
    'example.com GET /a#b',
    'example.com GET /%zz',
  ])('refuses %j with a sentence that shows the form', (text) => {
    expect(tryParseRuleTarget(text)).toBeNull();
    expect(() => parseRuleTarget(text)).toThrow(/METHODS and a \/PATH like "api\.github\.com GET,POST \/repos\/acme\/\*"/);
  });

  it('keeps one rule per host, methods and path, so two paths on a host are two rules', () => {
    const rules = new RuleSet();
    rules.add({ target: parseRuleTarget('api.github.com GET /a/*'), action: 'allow', lifetime: { kind: 'forever' } });
    rules.add({ target: parseRuleTarget('api.github.com GET /b/*'), action: 'allow', lifetime: { kind: 'forever' } });
    rules.add({ target: parseRuleTarget('api.github.com'), action: 'allow', lifetime: { kind: 'forever' } });
    expect(rules.list().map((r) => r.id)).toEqual(['api.github.com GET /a/*', 'api.github.com GET /b/*', 'api.github.com']);
  });

  it('round-trips through the [firewall] table, next to entries older files have', () => {
    const rules = new RuleSet();
    rules.add({ target: parseRuleTarget('api.github.com GET,POST /repos/acme/*'), action: 'allow', lifetime: { kind: 'forever' } });
    rules.add({ target: parseRuleTarget('api.github.com DELETE'), action: 'deny', lifetime: { kind: 'forever' } });
    const table = { ...toFirewallTable(rules.list()), '1.2.3.4:443': 'allow', 'example.com': 'deny' };
    expect(table).toMatchObject({ 'api.github.com GET,POST /repos/acme/*': 'allow', 'api.github.com DELETE': 'deny' });
    const read = fromFirewallTable(table);
    expect(read.problems).toEqual([]);
    expect(read.rules.map((r) => [r.id, r.action])).toEqual([
      ['api.github.com GET,POST /repos/acme/*', 'allow'],
      ['api.github.com DELETE', 'deny'],
      ['1.2.3.4:443', 'allow'],
      ['example.com', 'deny'],
    ]);
  });

  it('is refused in the defaults file, which allows whole domains only', () => {
    const { entries, problems } = parseDefaultRules('github.com\napi.github.com GET\n');
    expect(entries).toEqual(['github.com']);
    expect(problems).toEqual(['Line 2 of the default firewall rules ("api.github.com GET") has methods or a path, which only a VM\'s rules may have; keep the host alone.']);
  });
});

describe('RuleSet and HTTP rules', () => {
  it('never decides a connection by an HTTP rule: a deny for DELETE does not deny the host', () => {
    const rules = new RuleSet();
    rules.add({ target: parseRuleTarget('api.github.com DELETE'), action: 'deny', lifetime: { kind: 'forever' } });
    expect(rules.match(dest('api.github.com'))).toBeNull();
  });

  it('lists the HTTP rules that cover a destination by name and port', () => {
    const rules = new RuleSet();
    rules.add({ target: parseRuleTarget('api.github.com:443 GET'), action: 'allow', lifetime: { kind: 'forever' } });
    rules.add({ target: parseRuleTarget('*.github.com /x'), action: 'deny', lifetime: { kind: 'forever' } });
    rules.add({ target: parseRuleTarget('api.github.com'), action: 'allow', lifetime: { kind: 'forever' } });
    expect(rules.httpRules(dest('api.github.com')).map((r) => r.id)).toEqual(['api.github.com:443 GET', '*.github.com /x']);
    expect(rules.httpRules(dest('api.github.com', 8443)).map((r) => r.id)).toEqual(['*.github.com /x']);
    expect(rules.httpRules(dest('example.com'))).toEqual([]);
  });
});

describe('normalizeRequestPath', () => {
  it.each([
    ['/repos/acme/x', '/repos/acme/x', ''],
    ['/repos/acme/../other?x=1', '/repos/other', '?x=1'],
    ['/repos/acme/%2e%2E/other', '/repos/other', ''],
    ['/a/./b/.', '/a/b/', ''],
    ['/%7Euser/%2fx', '/~user/%2Fx', ''],
    ['/../../etc', '/etc', ''],
    ['/a?b=/../c', '/a', '?b=/../c'],
  ])('%s → %s', (target, path, query) => {
    expect(normalizeRequestPath(target)).toEqual({ path, query });
  });

  it.each(['http://evil.test/x', '*', 'x/y', '/a\\..\\b', '/a%zz', '/a b', '/a\u0000'])('refuses %j', (target) => {
    expect(normalizeRequestPath(target)).toBeNull();
  });
});

describe('pathMatches', () => {
  it.each([
    ['/repos/acme/*', '/repos/acme/x/pulls', true],
    ['/repos/acme/*', '/repos/acme/', true],
    ['/repos/acme/*', '/repos/acme', false],
    ['/repos/acme/*', '/repos/acmeco/x', false],
    ['/repos/*/issues', '/repos/a/b/issues', true],
    ['/a.b', '/aXb', false],
    ['/%7Euser/*', '/~user/x', true],
  ])('%s against %s is %s', (pattern, path, expected) => {
    expect(pathMatches(pattern, path)).toBe(expected);
  });
});

describe('matchHttpRule', () => {
  const rules = new RuleSet();
  const add = (text: string, action: 'allow' | 'deny') => rules.add({ target: parseRuleTarget(text), action, lifetime: { kind: 'forever' } });
  add('api.github.com GET,POST /repos/acme/*', 'allow');
  add('api.github.com /repos/acme/secret/*', 'deny');
  add('api.github.com DELETE', 'deny');
  add('*.github.com GET /repos/*', 'deny');
  add('api.github.com GET /tie', 'allow');
  add('api.github.com GET,HEAD /tie', 'deny');
  add('api.github.com /tie', 'allow');
  const decide = (method: string, path: string) => {
    const match = matchHttpRule(rules.httpRules(dest('api.github.com')), method, path);
    return match && [match.action, match.rule.id];
  };

  it.each([
    ['GET', '/repos/acme/x', ['allow', 'api.github.com GET,POST /repos/acme/*']],
    ['PUT', '/repos/acme/x', null],
    ['GET', '/repos/acme/secret/key', ['deny', 'api.github.com /repos/acme/secret/*']],
    ['DELETE', '/repos/acme/x', ['deny', 'api.github.com DELETE']],
    ['GET', '/repos/other/x', ['deny', '*.github.com GET /repos/*']],
    ['GET', '/tie', ['deny', 'api.github.com GET,HEAD /tie']],
    ['POST', '/tie', ['allow', 'api.github.com /tie']],
  ])('%s %s', (method, path, expected) => {
    expect(decide(method, path)).toEqual(expected);
  });

  it('consumes a once rule with the request it decides', () => {
    const once = new RuleSet();
    once.add({ target: parseRuleTarget('api.github.com POST /x'), action: 'allow', lifetime: { kind: 'once' } });
    expect(matchHttpRequest(once, dest('api.github.com'), 'POST', '/x')?.action).toBe('allow');
    expect(matchHttpRequest(once, dest('api.github.com'), 'POST', '/x')).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import type { Destination } from '../../../src-main/shared/models';
import { formatRuleTarget } from '../../../src-main/shared/scopes';
import { parseRuleTarget, parseUserRuleTarget, tryParseRuleTarget } from '../../../src-main/core/firewall/rule-target';
import { fromFirewallTable, parseDefaultRules, toFirewallTable } from '../../../src-main/core/firewall/rule-table';
import { RuleSet } from '../../../src-main/core/firewall/rules';

function dest(ip: string | null, port: number, name: string | null = null): Destination {
  return { ip, port, name, nameSource: name ? 'sni' : null, service: null };
}

describe('parseRuleTarget', () => {
  it.each([
    ['1.2.3.4:443', { kind: 'ip', ip: '1.2.3.4', port: 443 }, '1.2.3.4:443'],
    ['1.2.3.4', { kind: 'ip', ip: '1.2.3.4', port: null }, '1.2.3.4'],
    ['1.2.3.4:*', { kind: 'ip', ip: '1.2.3.4', port: null }, '1.2.3.4'],
    ['[2001:DB8:0::1]:443', { kind: 'ip', ip: '2001:db8::1', port: 443 }, '[2001:db8::1]:443'],
    ['2001:db8::1', { kind: 'ip', ip: '2001:db8::1', port: null }, '2001:db8::1'],
    ['[::ffff:10.1.2.3]:22', { kind: 'ip', ip: '10.1.2.3', port: 22 }, '10.1.2.3:22'],
    ['10.0.0.0/8', { kind: 'cidr', cidr: '10.0.0.0/8', port: null }, '10.0.0.0/8'],
    ['10.9.9.9/8:22', { kind: 'cidr', cidr: '10.0.0.0/8', port: 22 }, '10.0.0.0/8:22'],
    ['[2001:db8::/32]:443', { kind: 'cidr', cidr: '2001:db8::/32', port: 443 }, '[2001:db8::/32]:443'],
    ['Example.COM.', { kind: 'domain', domain: 'example.com', port: null }, 'example.com'],
    ['example.com:443', { kind: 'domain', domain: 'example.com', port: 443 }, 'example.com:443'],
    ['example.com:*', { kind: 'domain', domain: 'example.com', port: null }, 'example.com'],
    ['*.example.com', { kind: 'domain-suffix', domain: 'example.com', port: null }, '*.example.com'],
    ['*.example.com:443', { kind: 'domain-suffix', domain: 'example.com', port: 443 }, '*.example.com:443'],
  ])('reads %s', (text, target, formatted) => {
    expect(parseRuleTarget(text)).toEqual(target);
    expect(formatRuleTarget(parseRuleTarget(text))).toBe(formatted);
  });

  it.each(['', '1.2.3.4:0', '1.2.3.4:65536', 'example.com:http', '10.0.0.0/33', 'a..b', '*.', '[1.2.3.4]:80', 'exa mple.com', '[2001:db8::1]443'])(
    'rejects %j with a message saying what to write',
    (text) => {
      expect(tryParseRuleTarget(text)).toBeNull();
      expect(() => parseRuleTarget(text)).toThrow(/is not a firewall target; use HOST/);
    },
  );
});

describe('RuleSet.match precedence', () => {
  const rules = new RuleSet(
    [],
    ['github.com'],
  );
  const add = (text: string, action: 'allow' | 'deny') => rules.add({ target: parseRuleTarget(text), action, lifetime: { kind: 'forever' } });
  add('10.0.0.0/8', 'deny');
  add('10.1.0.0/16', 'allow');
  add('10.1.0.0/16:22', 'deny');
  add('10.1.2.3', 'deny');
  add('10.1.2.3:443', 'allow');
  add('*.example.com', 'deny');
  add('*.api.example.com', 'allow');
  add('*.example.com:443', 'allow');
  add('www.example.com', 'deny');
  add('www.example.com:8443', 'allow');
  add('*.evil.github.com', 'deny');
  add('both.test:443', 'allow');
  add('10.9.9.9:443', 'deny');

  it.each([
    ['exact ip:port beats ip any-port', dest('10.1.2.3', 443), 'allow', '10.1.2.3:443'],
    ['ip any-port beats cidr', dest('10.1.2.3', 80), 'deny', '10.1.2.3'],
    ['cidr with port beats cidr without', dest('10.1.7.7', 22), 'deny', '10.1.0.0/16:22'],
    ['longer prefix beats shorter', dest('10.1.7.7', 80), 'allow', '10.1.0.0/16'],
    ['shortest prefix still matches', dest('10.200.0.1', 80), 'deny', '10.0.0.0/8'],
    ['exact name:port beats exact name', dest('5.5.5.5', 8443, 'www.example.com'), 'allow', 'www.example.com:8443'],
    ['exact name beats *.domain:port', dest('5.5.5.5', 443, 'www.example.com'), 'deny', 'www.example.com'],
    ['*.domain:port beats *.domain', dest('5.5.5.5', 443, 'a.example.com'), 'allow', '*.example.com:443'],
    ['longer suffix beats shorter', dest('5.5.5.5', 80, 'x.api.example.com'), 'allow', '*.api.example.com'],
    ['suffix covers the bare domain', dest('5.5.5.5', 80, 'example.com'), 'deny', '*.example.com'],
    ['name rule beats cidr', dest('10.2.2.2', 443, 'a.example.com'), 'allow', '*.example.com:443'],
    ['any user rule beats the defaults', dest('5.5.5.5', 443, 'x.evil.github.com'), 'deny', '*.evil.github.com'],
    ['defaults allow suffixes', dest('5.5.5.5', 443, 'api.github.com'), 'allow', '*.github.com'],
    ['deny wins a tie between ip and name rules', dest('10.9.9.9', 443, 'both.test'), 'deny', '10.9.9.9:443'],
  ])('%s', (_label, destination, action, target) => {
    const match = rules.match(destination);
    expect(match?.action).toBe(action);
    expect(match && formatRuleTarget(match.rule.target)).toBe(target);
  });

  it('returns null for destinations no rule covers', () => {
    expect(rules.match(dest('192.0.2.1', 443, 'unknown.test'))).toBeNull();
    expect(rules.match(dest('192.0.2.1', 443, 'notgithub.com'))).toBeNull();
  });

  it('matches IPv4-mapped IPv6 addresses as IPv4', () => {
    expect(rules.match(dest('::ffff:10.1.2.3', 443))?.action).toBe('allow');
  });
});

describe('RuleSet lifetimes', () => {
  it('consumes a once rule on its first match', () => {
    const rules = new RuleSet();
    rules.add({ target: parseRuleTarget('1.2.3.4:80'), action: 'allow', lifetime: { kind: 'once' } });
    expect(rules.match(dest('1.2.3.4', 80))?.action).toBe('allow');
    expect(rules.match(dest('1.2.3.4', 80))).toBeNull();
  });

  it('expires duration rules at their deadline (injected clock)', () => {
    const rules = new RuleSet();
    const start = Date.parse('2030-01-01T00:00:00Z');
    rules.add({ target: parseRuleTarget('example.com'), action: 'allow', lifetime: { kind: 'duration', until: new Date(start + 60_000).toISOString() } });
    expect(rules.match(dest(null, 443, 'example.com'), start + 59_999)?.action).toBe('allow');
    expect(rules.match(dest(null, 443, 'example.com'), start + 60_000)).toBeNull();
    expect(rules.list(start + 60_000)).toEqual([]);
  });

  it('drops until-stop rules when the VM stops and keeps forever rules', () => {
    const rules = new RuleSet();
    rules.add({ target: parseRuleTarget('a.test'), action: 'allow', lifetime: { kind: 'until-stop' } });
    rules.add({ target: parseRuleTarget('b.test'), action: 'allow', lifetime: { kind: 'forever' } });
    rules.vmStopped();
    expect(rules.list().map((r) => r.id)).toEqual(['b.test']);
  });

  it('replaces the rule for the same target instead of stacking', () => {
    const rules = new RuleSet();
    rules.add({ target: parseRuleTarget('a.test:443'), action: 'deny', lifetime: { kind: 'forever' } });
    rules.add({ target: parseRuleTarget('A.test:443'), action: 'allow', lifetime: { kind: 'forever' } });
    expect(rules.list()).toHaveLength(1);
    expect(rules.match(dest(null, 443, 'a.test'))?.action).toBe('allow');
  });
});

describe('vm.toml [firewall] table', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');

  it('round-trips persistent rules and leaves session rules out', () => {
    const rules = new RuleSet();
    rules.add({ target: parseRuleTarget('1.2.3.4:443'), action: 'allow', lifetime: { kind: 'forever' } });
    rules.add({ target: parseRuleTarget('*.example.com'), action: 'deny', lifetime: { kind: 'forever' } });
    rules.add({ target: parseRuleTarget('[2001:db8::1]:22'), action: 'allow', lifetime: { kind: 'duration', until: '2030-01-02T00:00:00.000Z' } });
    rules.add({ target: parseRuleTarget('c.test'), action: 'allow', lifetime: { kind: 'until-stop' } });
    const table = toFirewallTable(rules.persistent(now));
    expect(table).toEqual({
      '1.2.3.4:443': 'allow',
      '*.example.com': 'deny',
      '[2001:db8::1]:22': { action: 'allow', expires: '2030-01-02T00:00:00.000Z' },
    });
    const read = fromFirewallTable(table, now);
    expect(read.problems).toEqual([]);
    expect(read.rules.map((r) => [r.id, r.action, r.lifetime.kind])).toEqual([
      ['1.2.3.4:443', 'allow', 'forever'],
      ['*.example.com', 'deny', 'forever'],
      ['[2001:db8::1]:22', 'allow', 'duration'],
    ]);
  });

  it("reads the original tool's \"IP:PORT\" = \"allow\" entries as exact rules", () => {
    const { rules } = fromFirewallTable({ '93.184.216.34:443': 'allow', '10.0.0.5:22': 'deny' }, now);
    const set = new RuleSet(rules);
    expect(set.match(dest('93.184.216.34', 443))?.action).toBe('allow');
    expect(set.match(dest('93.184.216.34', 80))).toBeNull();
    expect(set.match(dest('10.0.0.5', 22))?.action).toBe('deny');
  });

  it('drops expired entries and reports unreadable ones without losing the rest', () => {
    const read = fromFirewallTable(
      {
        'old.test': { action: 'allow', expires: '2029-12-31T00:00:00Z' },
        'bad target!': 'allow',
        'x.test': 'maybe',
        'y.test': { action: 'allow', expires: 'soon' },
        'ok.test': 'allow',
      },
      now,
    );
    expect(read.rules.map((r) => r.id)).toEqual(['ok.test']);
    expect(read.problems).toHaveLength(3);
    expect(read.problems[0]).toMatch(/"bad target!".*fix or remove it in vm.toml/);
  });
});

describe('parseDefaultRules', () => {
  it('reads suffixes, skips comments and reports junk with its line', () => {
    const { entries, problems } = parseDefaultRules('# defaults\ngithub.com\n\n  pypi.org  # python\n*.debian.org\nnot valid!\n');
    expect(entries).toEqual(['github.com', 'pypi.org', '*.debian.org']);
    expect(problems).toEqual(['Line 6 of the default firewall rules ("not valid!") is not a target; fix or remove it.']);
  });

  it('makes each default cover the domain and its sub-domains, below every user rule', () => {
    const rules = new RuleSet([], ['pypi.org']);
    expect(rules.match(dest(null, 443, 'pypi.org'))?.rule.source).toBe('default');
    expect(rules.match(dest(null, 443, 'files.pypi.org'))?.action).toBe('allow');
    rules.add({ target: parseRuleTarget('10.0.0.0/8'), action: 'deny', lifetime: { kind: 'forever' } });
    expect(rules.match(dest('10.0.0.1', 443, 'files.pypi.org'))?.action).toBe('deny');
  });
});


describe('parseUserRuleTarget', () => {
  it.each(['127.0.0.1:8080', '[::1]:22', '0.0.0.0'])('refuses %s, naming host.xray.internal', (text) => {
    expect(() => parseUserRuleTarget(text)).toThrow(/only as host\.xray\.internal/);
  });

  it('takes what can match', () => {
    expect(parseUserRuleTarget('host.xray.internal:8080')).toEqual({ kind: 'domain', domain: 'host.xray.internal', port: 8080 });
    expect(parseUserRuleTarget('0.0.0.0/0')).toEqual({ kind: 'cidr', cidr: '0.0.0.0/0', port: null });
  });
});

// Runs in: plain Node (core). One VM's rules in memory, and which of them
// decides a destination.
import type { Destination, FirewallRule, RuleAction, RuleLifetime, RuleTarget } from '../../shared/models';
import { formatRuleTarget } from '../../shared/scopes';
import { parseRuleTarget, targetMatches } from './rule-target';

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

/** RuleInput is a rule to add: its target, action and lifetime, and where it lives (default: by its lifetime). */
export interface RuleInput {
  readonly target: RuleTarget;
  readonly action: RuleAction;
  readonly lifetime: RuleLifetime;
  readonly source?: 'vm' | 'session';
}

/** RuleMatch is the rule that decides a destination, and its action. */
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

  /** remove drops the user rule with `id`; false when there is none. */
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

// Runs in: plain Node (core). Rules as files hold them: vm.toml's [firewall]
// table and the default rules file.
import type { FirewallRule, RuleAction, RuleLifetime } from '../../shared/models';
import { formatRuleTarget } from '../../shared/scopes';
import { tryParseRuleTarget } from './rule-target';
import { isPersistent } from './rules';

/** FirewallTableEntry is one value of vm.toml's [firewall] table: an action, or an action with its expiry. */
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

/** FirewallTableRead is what fromFirewallTable made of a table: the rules it read and what it skipped. */
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

// Runs in: plain Node (core).
import type { LearnedDestination, LearnedItem, LearnedRecord, LearnedReview } from '../../shared/learned';
import type { Destination, FirewallRule } from '../../shared/models';
import { HTTP_METHODS, PATH_PATTERN, formatRuleTarget } from '../../shared/scopes';
import type { Handler } from '../engine';
import { validateName } from '../names';
import type { HomePaths } from '../paths';
import type { VmStore } from '../store/vm-store';
import { matchHttpRule } from './http-rules';
import { readLearned } from './learn';
import type { RuleStore } from './rule-store';
import { RuleSet } from './rules';

export interface LearnApiDeps {
  readonly paths: HomePaths;
  readonly vms: Pick<VmStore, 'read'>;
  readonly ruleStore: Pick<RuleStore, 'read' | 'defaults'>;
  /** live is a running VM's rules, and its learn run when it is learning now; null when it does not run here. */
  readonly live: (vm: string) => { readonly rules: RuleSet; readonly learned?: { record(): LearnedRecord } | null } | null;
}

/**
 * learnHandlers serve `firewall.learned`: the VM's learn run (in memory
 * while it goes on, else vms/NAME/learned.json) as items to review, each
 * with the rule applying it adds and what decides it under today's rules.
 */
export function learnHandlers(deps: LearnApiDeps): { 'firewall.learned': Handler<'firewall.learned'> } {
  return {
    'firewall.learned': async ({ vm }): Promise<LearnedReview> => {
      await deps.vms.read(validateName('VM', vm));
      const running = deps.live(vm);
      const record = running?.learned?.record() ?? (await readLearned(deps.paths.vm(vm).learned));
      if (record === null) return { vm, learning: false, startedAt: null, updatedAt: null, dropped: 0, items: [] };
      const own = running ? running.rules.list().filter((r) => r.source !== 'default') : (await deps.ruleStore.read(vm)).rules;
      // A copy, so judging items consumes no rule that lasts one connection.
      const rules = new RuleSet(own.map(lastingCopy), (await deps.ruleStore.defaults()).entries);
      const items = [...record.destinations].sort((a, b) => a.host.localeCompare(b.host) || a.port - b.port).flatMap((d) => reviewItems(d, rules));
      return { vm, learning: Boolean(running?.learned), startedAt: record.startedAt, updatedAt: record.updatedAt, dropped: record.dropped, items };
    },
  };
}

function lastingCopy(rule: FirewallRule): FirewallRule {
  return rule.lifetime.kind === 'once' ? { ...rule, lifetime: { kind: 'until-stop' } } : rule;
}

/**
 * reviewItems are one destination's items: the destination itself, then
 * for an intercepted host each path with the methods seen on it. A path or
 * method no rule can hold (characters a rule pattern refuses, a method
 * outside the known ones) is left out of the items.
 */
function reviewItems(d: LearnedDestination, rules: RuleSet): LearnedItem[] {
  const destination: Destination = { ip: d.named ? null : d.host, port: d.port, name: d.named ? d.host : null, nameSource: d.named ? 'dns' : null, service: null };
  const hostMatch = rules.match(destination);
  const hostNow = hostMatch ? { action: hostMatch.action, by: hostMatch.rule.id } : rules.httpRules(destination).length > 0 ? { action: 'allow' as const, by: 'HTTP rules' } : null;
  const items: LearnedItem[] = [
    {
      kind: 'connection',
      host: d.host,
      port: d.port,
      methods: null,
      path: null,
      count: d.connections,
      lastAt: d.lastAt,
      target: formatRuleTarget(d.named ? { kind: 'domain', domain: d.host, port: d.port } : { kind: 'ip', ip: d.host, port: d.port }),
      now: hostNow,
    },
  ];
  if (!d.named) return items;
  const byPath = new Map<string, { methods: Set<string>; count: number }>();
  for (const r of d.requests) {
    if (!HTTP_METHODS.has(r.method) || !PATH_PATTERN.test(r.path)) continue;
    const group = byPath.get(r.path) ?? { methods: new Set<string>(), count: 0 };
    group.methods.add(r.method);
    group.count += r.count;
    byPath.set(r.path, group);
  }
  const http = rules.httpRules(destination);
  for (const [path, group] of [...byPath].sort(([a], [b]) => a.localeCompare(b))) {
    const methods = [...group.methods].sort();
    const matches = methods.map((method) => matchHttpRule(http, method, path));
    const denied = matches.find((m) => m?.action === 'deny');
    const first = matches[0];
    const now = denied ? { action: denied.action, by: denied.rule.id } : first && matches.every(Boolean) ? { action: first.action, by: first.rule.id } : hostMatch ? { action: hostMatch.action, by: hostMatch.rule.id } : null;
    items.push({
      kind: 'requests',
      host: d.host,
      port: d.port,
      methods,
      path,
      count: group.count,
      lastAt: d.lastAt,
      target: formatRuleTarget({ kind: 'domain', domain: d.host, port: d.port, http: { methods, path } }),
      now,
    });
  }
  return items;
}

// Runs in: plain Node (core).
import type { XrayEvent } from '../../shared/contract';
import type { SecretBinding } from '../../shared/models';
import { policyDiffEmpty, type PolicyDiff } from '../../shared/policy';
import type { Handler } from '../engine';
import { validateName } from '../names';
import type { SecretBindings } from '../secrets/bindings';
import type { SecretStore } from '../secrets/store';
import type { VmStore } from '../store/vm-store';
import { applyPolicy, diffPolicy, parsePolicy, policyOf, renderPolicy } from './policy';
import type { RuleStore } from './rule-store';
import { fromFirewallTable } from './rule-table';

export type PolicyMethod = 'firewall.export' | 'firewall.import';

export interface PolicyApiDeps {
  readonly vms: Pick<VmStore, 'read' | 'update'>;
  readonly ruleStore: Pick<RuleStore, 'read'>;
  readonly bindings: Pick<SecretBindings, 'list'>;
  readonly secrets: Pick<SecretStore, 'list'>;
  readonly emit: (event: XrayEvent) => void;
}

/**
 * policyHandlers export a VM's lasting rules and bindings as a policy file,
 * and import one: a dry run says what would change; otherwise the change is
 * made in one write of vm.toml, under its lock, and computed there, so the
 * diff returned is the one applied. A running VM's firewall follows vm.toml.
 */
export function policyHandlers(deps: PolicyApiDeps): { [M in PolicyMethod]: Handler<M> } {
  return {
    'firewall.export': async ({ vm }) => {
      validateName('VM', vm);
      const [stored, bindings] = await Promise.all([deps.ruleStore.read(vm), deps.bindings.list(vm)]);
      const policy = policyOf(stored.rules, bindings);
      return { text: renderPolicy(vm, policy), rules: policy.rules.length, bindings: policy.bindings.length };
    },
    'firewall.import': async ({ vm, text, file, dryRun }) => {
      validateName('VM', vm);
      const next = parsePolicy(text, file ?? 'the policy');
      const known = new Set((await deps.secrets.list()).secrets.map((s) => s.name));
      const missingSecrets = next.bindings.filter((b) => !known.has(b.secret)).map((b) => b.secret);
      const current = async () => {
        const [stored, bindings] = await Promise.all([deps.ruleStore.read(vm), deps.bindings.list(vm)]);
        return diffPolicy(policyOf(stored.rules, bindings), next);
      };
      const planned = await current();
      if (dryRun || policyDiffEmpty(planned)) return { diff: planned, applied: false, missingSecrets };
      const made: { diff: PolicyDiff } = { diff: planned };
      await deps.vms.update(vm, (cfg) => {
        const bindings: SecretBinding[] = Object.entries(cfg.secretBindings ?? {}).map(([secret, entry]) => ({ secret, ...entry }));
        made.diff = diffPolicy(policyOf(fromFirewallTable(cfg.firewall).rules, bindings), next);
        applyPolicy(cfg, next);
      });
      deps.emit({ type: 'vm.changed', vm });
      return { diff: made.diff, applied: !policyDiffEmpty(made.diff), missingSecrets };
    },
  };
}

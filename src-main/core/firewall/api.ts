// Runs in: plain Node (core).
import type { XrayEvent } from '../../shared/contract';
import type { RuleLifetime } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import type { Handler } from '../engine';
import { validateName } from '../names';
import type { HomePaths } from '../paths';
import type { VmStore } from '../store/vm-store';
import type { FirewallLog } from './log';
import type { RuleStore } from './rule-store';
import { parseUserRuleTarget } from './rule-target';
import { RuleSet, isPersistent } from './rules';

export type FirewallMethod = 'firewall.rules' | 'firewall.add' | 'firewall.remove' | 'firewall.clear' | 'firewall.log';

export interface FirewallApiDeps {
  readonly paths: HomePaths;
  readonly vms: Pick<VmStore, 'read'>;
  readonly ruleStore: RuleStore;
  readonly emit: (event: XrayEvent) => void;
  /** live is a VM's rules and log in memory while it runs in this process, else null. */
  readonly live: (vm: string) => { readonly rules: RuleSet; readonly log: FirewallLog } | null;
}

/**
 * firewallHandlers serve a VM's rules and log from its files (RuleStore),
 * with or without a supervisor; while the VM runs here, its live rule set
 * changes with the file, and rules that last only while it runs live
 * there alone.
 */
export function firewallHandlers(deps: FirewallApiDeps): { [M in FirewallMethod]: Handler<M> } {
  const live = (vm: string) => deps.live(validateName('VM', vm));
  return {
    'firewall.rules': async ({ vm }) => {
      const running = live(vm);
      if (running) return running.rules.list();
      const [stored, defaults] = await Promise.all([deps.ruleStore.read(vm), deps.ruleStore.defaults()]);
      return new RuleSet(stored.rules, defaults.entries).list();
    },
    'firewall.add': async (p) => {
      const target = parseUserRuleTarget(p.target);
      await deps.vms.read(validateName('VM', p.vm));
      const running = live(p.vm);
      if (!running && (p.lifetime === 'once' || p.lifetime === 'until-stop')) {
        throw new XrayError('invalid-argument', `VM "${p.vm}" is not running, so a rule "${p.lifetime}" would never apply; make it last a while or forever.`, {
          cli: `VM "${p.vm}" is not running, so a rule "${p.lifetime}" would never apply; use --for or --forever.`,
        });
      }
      if (p.lifetime === 'duration' && !p.durationSeconds) {
        throw new XrayError('invalid-argument', 'A rule for a while needs its duration.', { cli: 'A rule for a while needs its duration, like --for 1h.' });
      }
      const lifetime: RuleLifetime =
        p.lifetime === 'duration' ? { kind: 'duration', until: new Date(Date.now() + p.durationSeconds! * 1000).toISOString() } : { kind: p.lifetime };
      const rule = (running?.rules ?? new RuleSet()).add({ target, action: p.action, lifetime });
      if (isPersistent(rule)) await deps.ruleStore.put(p.vm, rule);
      deps.emit({ type: 'vm.changed', vm: p.vm });
      return rule;
    },
    'firewall.remove': async ({ vm, id }) => {
      if (id.startsWith('default:')) {
        throw new XrayError('invalid-argument', `Rule "${id}" comes from ${deps.paths.defaultFirewallRules}; edit that file to change it.`);
      }
      const fromFile = await deps.ruleStore.remove(validateName('VM', vm), id);
      const fromMemory = live(vm)?.rules.remove(id) ?? false;
      if (!fromFile && !fromMemory) throw new XrayError('not-found', `VM "${vm}" has no rule "${id}"; see "xray firewall list ${vm}".`);
      deps.emit({ type: 'vm.changed', vm });
      return null;
    },
    'firewall.clear': async ({ vm }) => {
      await deps.ruleStore.clear(validateName('VM', vm));
      live(vm)?.rules.clear();
      deps.emit({ type: 'vm.changed', vm });
      return null;
    },
    'firewall.log': async ({ vm, limit }) => {
      await deps.vms.read(validateName('VM', vm));
      return live(vm)?.log.entries(limit ?? 200) ?? deps.ruleStore.log(vm, limit ?? 200);
    },
  };
}

// Runs in: renderer. A VM's firewall rules, editable: add a rule for a target,
// change a rule's action or how long it lasts (adding the same target again
// replaces its rule), remove it. Rules from the default rules file are shown
// but not changed here. The list follows changes made anywhere (the store
// fetches it again on the events that say so) and drops a rule when it expires.
import { useEffect, useState, type FormEvent } from 'react';
import { lifetimeText } from '../../../src-main/shared/format';
import type { FirewallRule, PromptLifetime, RuleAction } from '../../../src-main/shared/models';
import { formatRuleTarget, ruleTargetLabel } from '../../../src-main/shared/scopes';
import { isActive } from '../../../src-main/shared/vm';
import { useActions, useXray } from '../../store/context';
import { formatTime } from '../format';
import { lifetimeLabels, lifetimeParams, type LifetimeChoice } from '../lifetimes';
import { Loaded } from '../Loaded';

/** choices are the lifetimes a rule added by hand can have; "until the VM stops" only while it runs. */
const choices: readonly LifetimeChoice[] = ['until-stop', 'hour', 'forever'];

/** KEEP is the lifetime menu's entry for a lifetime it does not offer (once, until a time): keep it as it is. */
const KEEP = 'keep';

/** currentChoice is the menu entry a rule's lifetime shows as. */
function currentChoice(rule: FirewallRule): LifetimeChoice | typeof KEEP {
  return rule.lifetime.kind === 'until-stop' || rule.lifetime.kind === 'forever' ? rule.lifetime.kind : KEEP;
}

/** sameLifetime is a rule's lifetime as a request, so changing only its action leaves the rest as it was. */
function sameLifetime(rule: FirewallRule): { lifetime: PromptLifetime; durationSeconds?: number } {
  if (rule.lifetime.kind !== 'duration') return { lifetime: rule.lifetime.kind };
  return { lifetime: 'duration', durationSeconds: Math.max(1, Math.ceil((Date.parse(rule.lifetime.until) - Date.now()) / 1000)) };
}

export function FirewallRules({ vm }: { vm: string }) {
  const rules = useXray((s) => s.rules[vm]);
  const running = useXray((s) => isActive(s.vms[vm]?.state ?? 'stopped'));
  const { addRule, removeRule } = useActions();
  const [target, setTarget] = useState('');
  const [action, setAction] = useState<RuleAction>('allow');
  const [lifetime, setLifetime] = useState<LifetimeChoice>('forever');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useExpiry(vm, rules?.status === 'ready' ? rules.value : []);

  /** change runs one change to the rules: its error shows below the form until the next change. */
  const change = async (id: string, task: () => Promise<void>) => {
    setBusy(id);
    setError(null);
    try {
      await task();
      return true;
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      return false;
    } finally {
      setBusy(null);
    }
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const choice = lifetime === 'until-stop' && !running ? 'forever' : lifetime;
    if (await change('new', () => addRule({ vm, target: target.trim(), action, ...lifetimeParams(choice) }))) setTarget('');
  };
  const setRule = (rule: FirewallRule, next: { action?: RuleAction; lifetime?: LifetimeChoice }) =>
    void change(rule.id, () =>
      addRule({ vm, target: formatRuleTarget(rule.target), action: next.action ?? rule.action, ...(next.lifetime ? lifetimeParams(next.lifetime) : sameLifetime(rule)) }),
    );

  return (
    <>
      <form className="inline-form rule-form" aria-label="Add a rule" onSubmit={(e) => void submit(e)}>
        <input value={target} onChange={(e) => setTarget(e.target.value)} placeholder="api.github.com:443, *.debian.org or 10.0.0.0/8" aria-label="Target" />
        <select value={action} onChange={(e) => setAction(e.target.value as RuleAction)} aria-label="Action">
          <option value="allow">Allow</option>
          <option value="deny">Deny</option>
        </select>
        <select value={lifetime === 'until-stop' && !running ? 'forever' : lifetime} onChange={(e) => setLifetime(e.target.value as LifetimeChoice)} aria-label="Lasts">
          {choices.map((c) => (
            <option key={c} value={c} disabled={c === 'until-stop' && !running}>
              {lifetimeLabels[c]}
            </option>
          ))}
        </select>
        <button type="submit" className="primary" disabled={target.trim() === '' || busy !== null}>
          Add rule
        </button>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      <Loaded value={rules}>
        {(list) =>
          list.length === 0 ? (
            <p className="hint">No rules yet: the first time this VM connects somewhere new, Xray asks you.</p>
          ) : (
            <table className="rules">
              <tbody>
                {list.map((r) =>
                  r.source === 'default' ? (
                    <tr key={r.id} data-rule={r.id}>
                      <td>{ruleTargetLabel(r.target)}</td>
                      <td><span className={`tag tag-${r.action}`}>{r.action}</span></td>
                      <td colSpan={2} className="hint">From the default rules file; edit that file to change it.</td>
                    </tr>
                  ) : (
                    <tr key={r.id} data-rule={r.id}>
                      <td>{ruleTargetLabel(r.target)}</td>
                      <td>
                        <select className={`action-${r.action}`} value={r.action} disabled={busy !== null} onChange={(e) => setRule(r, { action: e.target.value as RuleAction })} aria-label={`Action for ${r.id}`}>
                          <option value="allow">Allow</option>
                          <option value="deny">Deny</option>
                        </select>
                      </td>
                      <td>
                        <select value={currentChoice(r)} disabled={busy !== null} onChange={(e) => setRule(r, { lifetime: e.target.value as LifetimeChoice })} aria-label={`How long ${r.id} lasts`}>
                          {currentChoice(r) === KEEP && <option value={KEEP}>{lifetimeText(r.lifetime, formatTime)}</option>}
                          {choices.map((c) => (
                            <option key={c} value={c} disabled={c === 'until-stop' && !running}>
                              {lifetimeLabels[c]}
                            </option>
                          ))}
                        </select>
                      </td>
                      <td className="actions">
                        <button type="button" disabled={busy !== null} onClick={() => void change(r.id, () => removeRule(vm, r.id))} aria-label={`Remove rule ${r.id}`}>
                          Remove
                        </button>
                      </td>
                    </tr>
                  ),
                )}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </>
  );
}

/** MAX_TIMER_MS is the longest delay a timer takes (about 24.8 days); a rule lasting longer is looked at again on the next visit. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** useExpiry fetches the rules again as the first rule that lasts a while runs out, so it leaves the list when it stops applying. */
function useExpiry(vm: string, rules: readonly FirewallRule[]): void {
  const { loadRules } = useActions();
  const next = Math.min(...rules.map((r) => (r.lifetime.kind === 'duration' ? Date.parse(r.lifetime.until) : Infinity)));
  useEffect(() => {
    const wait = next - Date.now() + 500;
    if (!Number.isFinite(wait) || wait > MAX_TIMER_MS) return;
    const timer = setTimeout(() => void loadRules(vm), Math.max(0, wait));
    return () => clearTimeout(timer);
  }, [vm, next, loadRules]);
}

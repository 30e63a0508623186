// Runs in: renderer. A VM's firewall policy as a file: Export saves its lasting
// rules and secret bindings (never a value) as TOML; Import reads a file,
// shows what it would add, remove and change, and applies it only when the
// person agrees.
import { useRef, useState, type ChangeEvent } from 'react';
import { describePolicyDiff, policyDiffEmpty, policyDiffSummary, type PolicyImport } from '../../../src-main/shared/policy';
import { useActions } from '../../store/context';
import { Dialog } from '../Dialog';

/** Pending is a policy read from a file and checked, waiting for the person's answer. */
interface Pending {
  readonly file: string;
  readonly text: string;
  readonly plan: PolicyImport;
}

/** saveText hands text to the browser (or Electron) as a download named `name`. */
function saveText(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/toml' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export function FirewallPolicy({ vm }: { vm: string }) {
  const { exportPolicy, importPolicy } = useActions();
  const chooser = useRef<HTMLInputElement>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (task: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await task();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const exportFile = () =>
    void run(async () => {
      const exported = await exportPolicy(vm);
      saveText(`${vm}-policy.toml`, exported.text);
      setNotice(`Exported ${count(exported.rules, 'rule')} and ${count(exported.bindings, 'secret binding')}.`);
    });
  const chosen = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    void run(async () => {
      const text = await file.text();
      const plan = await importPolicy({ vm, text, file: file.name, dryRun: true });
      if (policyDiffEmpty(plan.diff)) setNotice(`${vm} already follows ${file.name}; nothing to change.`);
      else setPending({ file: file.name, text, plan });
    });
  };
  const apply = (p: Pending) =>
    void run(async () => {
      setPending(null);
      const done = await importPolicy({ vm, text: p.text, file: p.file });
      setNotice(`Applied ${p.file}: ${policyDiffSummary(done.diff)}.`);
    });

  return (
    <div className="inline-form policy-actions">
      <button type="button" disabled={busy} onClick={exportFile}>
        Export policy
      </button>
      <button type="button" disabled={busy} onClick={() => chooser.current?.click()}>
        Import policy…
      </button>
      <input ref={chooser} type="file" accept=".toml,text/plain" hidden aria-label="Policy file" onChange={chosen} />
      {notice && <span className="hint" role="status">{notice}</span>}
      {error && <span className="error" role="alert">{error}</span>}
      {pending && <PolicyConfirm vm={vm} pending={pending} onApply={() => apply(pending)} onCancel={() => setPending(null)} />}
    </div>
  );
}

/** PolicyConfirm shows what a policy would change, one line a change, and the secrets it names that are not set. */
function PolicyConfirm({ vm, pending, onApply, onCancel }: { vm: string; pending: Pending; onApply: () => void; onCancel: () => void }) {
  const cancel = useRef<HTMLButtonElement>(null);
  return (
    <Dialog labelledBy="policy-title" className="policy-confirm" onCancel={onCancel} initialFocus={cancel}>
      <h2 id="policy-title">
        Apply {pending.file} to {vm}?
      </h2>
      <pre className="policy-diff" aria-label="Changes">
        {describePolicyDiff(pending.plan.diff).map((line, i) => (
          <span key={i} className={`diff-${line.trimStart()[0] === '+' ? 'added' : line.trimStart()[0] === '-' ? 'removed' : line.trimStart()[0] === '~' ? 'changed' : 'title'}`}>
            {line}
            {'\n'}
          </span>
        ))}
      </pre>
      {pending.plan.missingSecrets.map((secret) => (
        <p key={secret} className="warning">
          Secret “{secret}” is not set on this computer, so requests that need it will fail; set it with <code>xray secret set {secret}</code>.
        </p>
      ))}
      <footer>
        <button ref={cancel} type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={onApply}>
          Apply
        </button>
      </footer>
    </Dialog>
  );
}

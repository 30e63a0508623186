// Runs in: renderer. The "New VM" dialog: a base picker (on the base it was
// opened for, such as an image just got), and memory, CPUs and SSH user
// prefilled with what this host gives a new VM (vm.defaults), every field
// checked as it is typed by the rules the service applies.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { Params } from '../../src-main/shared/contract';
import { nameProblem } from '../../src-main/shared/names';
import { useActions, useXray } from '../store/context';
import { Dialog } from './Dialog';
import { parsePortList, settingProblem, type VmSetting } from './fields';

const settings: readonly { readonly setting: VmSetting; readonly label: string }[] = [
  { setting: 'memoryMb', label: 'Memory (MB)' },
  { setting: 'cpus', label: 'CPUs' },
  { setting: 'sshUser', label: 'SSH user' },
];

export function CreateDialog({ initialBase, onClose }: { initialBase: string | null; onClose: () => void }) {
  const bases = useXray((s) => s.bases);
  const existing = useXray((s) => s.vmNames);
  const defaults = useXray((s) => s.defaults);
  const { createVm, show, loadDefaults } = useActions();
  const baseList = bases.status === 'ready' ? bases.value : [];
  const [name, setName] = useState('');
  const [pickedBase, setBase] = useState(initialBase ?? '');
  const base = pickedBase || baseList[0]?.name || '';
  const [typed, setTyped] = useState<Partial<Record<VmSetting, string>>>({});
  const [portsText, setPortsText] = useState('');
  const [touched, setTouched] = useState(false);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nameInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    void loadDefaults();
  }, [loadDefaults]);

  const fitted = defaults?.status === 'ready' ? defaults.value : null;
  // Until the user types, a field shows this host's default; a field left empty is left to Xray, which gives the same.
  const text = (setting: VmSetting) => typed[setting] ?? (fitted ? String(fitted[setting]) : '');
  const problem = (setting: VmSetting) => (text(setting) === '' ? null : settingProblem('vm.create', setting, text(setting)));
  const settingProblems = settings.map(({ setting }) => problem(setting)).filter((p) => p !== null);

  const nameError = !touched
    ? null
    : nameProblem(name)
      ? `The name ${nameProblem(name)}.`
      : existing.includes(name)
        ? `A VM named "${name}" already exists.`
        : null;
  const { ports, problem: portsError } = parsePortList(portsText);
  const valid = !nameProblem(name) && !existing.includes(name) && settingProblems.length === 0 && !portsError && base !== '';

  const whole = (setting: 'memoryMb' | 'cpus') => (text(setting) === '' ? undefined : Number(text(setting)));
  const request = (): Params<'vm.create'> => ({ name, base, memoryMb: whole('memoryMb'), cpus: whole('cpus'), sshUser: text('sshUser') || undefined, ports });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!valid) return;
    setBusy(true);
    setSubmitError(null);
    try {
      await createVm(request());
      onClose();
      show({ kind: 'vm', name });
    } catch (err) {
      setSubmitError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog labelledBy="create-title" onCancel={onClose} initialFocus={nameInput}>
      <form onSubmit={(e) => void submit(e)}>
        <h2 id="create-title">New VM</h2>
        {baseList.length === 0 ? (
          <p className="hint">
            There are no base images yet. Import one in{' '}
            <button type="button" className="link" onClick={() => { onClose(); show({ kind: 'bases' }); }}>
              Base images
            </button>{' '}
            first.
          </p>
        ) : null}
        <label>
          Name
          <input
            ref={nameInput}
            value={name}
            aria-invalid={nameError ? true : undefined}
            onChange={(e) => {
              setName(e.target.value);
              setTouched(true);
            }}
            placeholder="dev"
          />
        </label>
        {nameError && <p className="field-error" role="alert">{nameError}</p>}
        <label>
          Base image
          <select value={base} onChange={(e) => setBase(e.target.value)}>
            {baseList.map((b) => (
              <option key={b.name} value={b.name}>
                {b.name} ({b.arch})
              </option>
            ))}
          </select>
        </label>
        <div className="row">
          {settings.map(({ setting, label }) => (
            <label key={setting}>
              {label}
              <input
                inputMode={setting === 'sshUser' ? undefined : 'numeric'}
                value={text(setting)}
                placeholder="default"
                onChange={(e) => setTyped({ ...typed, [setting]: e.target.value })}
                aria-invalid={problem(setting) ? true : undefined}
              />
            </label>
          ))}
        </div>
        {settingProblems.map((p) => (
          <p key={p} className="field-error">{p}</p>
        ))}
        <label>
          Forwarded ports (host:guest, comma separated)
          <input value={portsText} onChange={(e) => setPortsText(e.target.value)} placeholder="8080:80" aria-invalid={portsError ? true : undefined} />
        </label>
        {portsError && <p className="field-error">{portsError}</p>}
        {submitError && <p className="error" role="alert">{submitError}</p>}
        <footer>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!valid || busy}>
            {busy ? 'Creating…' : 'Create'}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}

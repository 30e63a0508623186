// Runs in: renderer. The "New VM" dialog: base picker and validation as you type,
// with the same name rules the core enforces.
import { useState, type FormEvent } from 'react';
import type { PortMapping } from '../../src-main/shared/models';
import { nameProblem } from '../../src-main/shared/names';
import { useActions, useXray } from '../store/context';

/** parsePorts reads "8080:80, 2222:22" into mappings, or says what is wrong. */
export function parsePorts(text: string): { ports: PortMapping[]; problem: string | null } {
  const ports: PortMapping[] = [];
  for (const part of text.split(/[,\s]+/).filter(Boolean)) {
    const match = /^(\d{1,5}):(\d{1,5})$/.exec(part);
    const host = Number(match?.[1]);
    const guest = Number(match?.[2]);
    if (!match || host < 1 || host > 65535 || guest < 1 || guest > 65535) {
      return { ports, problem: `"${part}" is not HOST:GUEST with ports from 1 to 65535.` };
    }
    ports.push({ host, guest });
  }
  return { ports, problem: null };
}

export function CreateDialog({ onClose }: { onClose: () => void }) {
  const bases = useXray((s) => s.bases);
  const existing = useXray((s) => s.vmNames);
  const { createVm, show } = useActions();
  const baseList = bases.status === 'ready' ? bases.value : [];
  const [name, setName] = useState('');
  const [pickedBase, setBase] = useState('');
  const base = pickedBase || baseList[0]?.name || '';
  const [memory, setMemory] = useState('2048');
  const [cpus, setCpus] = useState('2');
  const [portsText, setPortsText] = useState('');
  const [touched, setTouched] = useState(false);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const nameError = !touched
    ? null
    : nameProblem(name)
      ? `The name ${nameProblem(name)}.`
      : existing.includes(name)
        ? `A VM named "${name}" already exists.`
        : null;
  const memoryError = /^\d+$/.test(memory) && Number(memory) >= 128 ? null : 'Memory must be a whole number of MB, at least 128.';
  const cpusError = /^\d+$/.test(cpus) && Number(cpus) >= 1 && Number(cpus) <= 64 ? null : 'CPUs must be a whole number from 1 to 64.';
  const { ports, problem: portsError } = parsePorts(portsText);
  const baseError = base ? null : 'Pick a base image.';
  const valid = !nameProblem(name) && !existing.includes(name) && !memoryError && !cpusError && !portsError && !baseError;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!valid) return;
    setBusy(true);
    setSubmitError(null);
    try {
      await createVm({ name, base, memoryMb: Number(memory), cpus: Number(cpus), ports });
      onClose();
      show({ kind: 'vm', name });
    } catch (err) {
      setSubmitError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="overlay" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <form className="dialog" role="dialog" aria-modal="true" aria-labelledby="create-title" onSubmit={(e) => void submit(e)}>
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
            autoFocus
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
          <label>
            Memory (MB)
            <input inputMode="numeric" value={memory} onChange={(e) => setMemory(e.target.value)} aria-invalid={memoryError ? true : undefined} />
          </label>
          <label>
            CPUs
            <input inputMode="numeric" value={cpus} onChange={(e) => setCpus(e.target.value)} aria-invalid={cpusError ? true : undefined} />
          </label>
        </div>
        {memoryError && <p className="field-error">{memoryError}</p>}
        {cpusError && <p className="field-error">{cpusError}</p>}
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
    </div>
  );
}

// Runs in: renderer. A VM's snapshots tab: its snapshots in time order,
// memory snapshots marked apart from disk-only ones; revert and delete ask
// first, in a dialog.
import { useRef, useState, type FormEvent } from 'react';
import { formatBytes } from '../../../src-main/shared/format';
import type { SnapshotInfo } from '../../../src-main/shared/models';
import { nameProblem } from '../../../src-main/shared/names';
import { useActions, useXray } from '../../store/context';
import { Dialog } from '../Dialog';
import { formatTime } from '../format';

type Confirm = { readonly operation: 'revert' | 'delete'; readonly snapshot: string } | null;

/** inTimeOrder sorts snapshots oldest first; dates that do not parse keep their list order. */
export function inTimeOrder(list: readonly SnapshotInfo[]): SnapshotInfo[] {
  const time = (s: SnapshotInfo) => {
    const t = Date.parse(s.date.includes('T') ? s.date : s.date.replace(' ', 'T'));
    return Number.isNaN(t) ? 0 : t;
  };
  return [...list].map((s, i) => ({ s, i })).sort((a, b) => time(a.s) - time(b.s) || a.i - b.i).map((x) => x.s);
}

const verbs = { create: 'Taking', revert: 'Reverting to', delete: 'Deleting' } as const;

export function SnapshotsTab({ vm }: { vm: string }) {
  const snapshots = useXray((s) => s.snapshots[vm]);
  const job = useXray((s) => s.snapshotJobs[vm]);
  const running = useXray((s) => s.vms[vm]?.state === 'ready' || s.vms[vm]?.state === 'booting');
  const { runSnapshot } = useActions();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [confirm, setConfirm] = useState<Confirm>(null);
  const busy = job?.status === 'running';
  const problem = name === '' ? null : nameProblem(name);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!name || problem || busy) return;
    void runSnapshot(vm, { operation: 'create', name, description: description || undefined });
    setName('');
    setDescription('');
  };

  const confirmed = () => {
    if (!confirm) return;
    void runSnapshot(vm, { operation: confirm.operation, name: confirm.snapshot });
    setConfirm(null);
  };

  return (
    <div className="snapshots">
      <form className="inline-form" onSubmit={submit} aria-label="Take a snapshot">
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Snapshot name" aria-label="Snapshot name" aria-invalid={problem ? true : undefined} />
        <input value={description} onChange={(e) => setDescription(e.target.value)} placeholder="Note (optional)" aria-label="Snapshot note" />
        <button type="submit" className="primary" disabled={!name || !!problem || busy}>
          Take snapshot
        </button>
      </form>
      <p className="hint">{running ? 'The VM is running: a snapshot includes its memory and can be resumed.' : 'The VM is stopped: a snapshot holds the disk only.'}</p>
      {problem && <p className="field-error">The name {problem}.</p>}
      {job && job.status === 'running' && (
        <div className="progress" role="status">
          <span className="spinner" aria-hidden="true" /> {verbs[job.operation]} snapshot “{job.name}”…
        </div>
      )}
      {job && job.status === 'failed' && <p className="error" role="alert">{job.error}</p>}
      {confirm && <ConfirmDialog vm={vm} confirm={confirm} onConfirm={confirmed} onCancel={() => setConfirm(null)} />}
      {!snapshots || snapshots.status === 'loading' ? (
        <p className="hint">Loading snapshots…</p>
      ) : snapshots.status === 'error' ? (
        <p className="error">{snapshots.message}</p>
      ) : snapshots.value.length === 0 ? (
        <div className="empty small">
          <p>No snapshots yet. Take one before you try something risky; reverting brings the VM back to that moment.</p>
        </div>
      ) : (
        <ol className="timeline" aria-label="Snapshots, oldest first">
          {inTimeOrder(snapshots.value).map((snap) => (
            <li key={snap.name} className={snap.hasMemory ? 'memory' : 'disk'} data-snapshot={snap.name}>
              <span className="dot" aria-hidden="true" />
              <div className="snap-body">
                <div>
                  <strong>{snap.name}</strong>{' '}
                  <span className={`tag ${snap.hasMemory ? 'tag-memory' : 'tag-disk'}`}>{snap.hasMemory ? `memory · ${formatBytes(snap.vmStateSize)}` : 'disk only'}</span>
                </div>
                <div className="hint">{formatTime(snap.date)}</div>
                {snap.description && <div>{snap.description}</div>}
              </div>
              <div className="snap-actions">
                <button type="button" disabled={busy} onClick={() => setConfirm({ operation: 'revert', snapshot: snap.name })} aria-label={`Revert to ${snap.name}`}>
                  Revert
                </button>
                <button type="button" disabled={busy} onClick={() => setConfirm({ operation: 'delete', snapshot: snap.name })} aria-label={`Delete ${snap.name}`}>
                  Delete
                </button>
              </div>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/** ConfirmDialog asks before a revert or delete, which lose what was there; Esc or Cancel leaves everything as it is. */
function ConfirmDialog({ vm, confirm, onConfirm, onCancel }: { vm: string; confirm: NonNullable<Confirm>; onConfirm: () => void; onCancel: () => void }) {
  const act = useRef<HTMLButtonElement>(null);
  return (
    <Dialog role="alertdialog" labelledBy="confirm-question" className="confirm" onCancel={onCancel} initialFocus={act}>
      <p id="confirm-question">
        {confirm.operation === 'revert'
          ? `Revert ${vm} to “${confirm.snapshot}”? Changes made since then are lost.`
          : `Delete snapshot “${confirm.snapshot}” of ${vm}? This cannot be undone.`}
      </p>
      <footer>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button ref={act} type="button" className={confirm.operation === 'delete' ? 'danger' : 'primary'} onClick={onConfirm}>
          {confirm.operation === 'revert' ? 'Revert' : 'Delete'}
        </button>
      </footer>
    </Dialog>
  );
}

// Runs in: renderer. A VM's timeline tab: its snapshots as milestones with
// the network, question, hook and start/stop events between them, oldest
// first down to "now", filtered by kind and words; the snapshot it was last
// reverted to is marked. Snapshots are taken here (automatic ones switched on
// or off), and reverted to or deleted from their milestone; from an event,
// the VM goes back to the last snapshot before it, or the rule that decided
// it is revoked. A revert or delete asks first.
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import type { SnapshotInfo, TimelineEntry } from '../../../src-main/shared/models';
import { nameProblem } from '../../../src-main/shared/names';
import { useActions, useXray } from '../../store/context';
import { AutoSnapshotsSetting } from './AutoSnapshots';
import { SnapshotConfirm, type SnapshotQuestion } from './SnapshotConfirm';
import { ALL_EVENTS, EVENT_FILTERS, lastRevertedTo, timelineRows, type EventFilter, type TimelineFilter } from './timeline-rows';
import { TimelineList, type Selection } from './TimelineList';
import { TimelineSelection } from './TimelineSelection';

const verbs = { create: 'Taking', revert: 'Reverting to', delete: 'Deleting' } as const;
const NO_SNAPSHOTS: readonly SnapshotInfo[] = [];
const NO_ENTRIES: readonly TimelineEntry[] = [];

export function TimelineTab({ vm }: { vm: string }) {
  const snapshots = useXray((s) => s.snapshots[vm]);
  const timeline = useXray((s) => s.timelines[vm]);
  const job = useXray((s) => s.snapshotJobs[vm]);
  const { runSnapshot, loadTimeline } = useActions();
  const [filter, setFilter] = useState<TimelineFilter>(ALL_EVENTS);
  const [selection, setSelection] = useState<Selection>(null);
  const [question, setQuestion] = useState<SnapshotQuestion | null>(null);
  const busy = job?.status === 'running';

  useEffect(() => {
    void loadTimeline(vm);
  }, [vm, loadTimeline]);

  const snapshotList = snapshots?.status === 'ready' ? snapshots.value : NO_SNAPSHOTS;
  const entries = timeline?.status === 'ready' ? timeline.value : NO_ENTRIES;
  const rows = useMemo(() => timelineRows(entries, snapshotList, filter), [entries, snapshotList, filter]);
  const lastReverted = useMemo(() => lastRevertedTo(entries), [entries]);

  const confirmed = () => {
    if (!question) return;
    void runSnapshot(vm, { operation: question.operation, name: question.snapshot });
    setQuestion(null);
  };

  return (
    <div className="snapshots">
      <SnapshotForm vm={vm} busy={busy} />
      <AutoSnapshotsSetting vm={vm} />
      {job && job.status === 'running' && (
        <div className="progress" role="status">
          <span className="spinner" aria-hidden="true" /> {verbs[job.operation]} snapshot “{job.name}”…
        </div>
      )}
      {job && job.status === 'failed' && <p className="error" role="alert">{job.error}</p>}
      {snapshots?.status === 'error' && <p className="error">{snapshots.message}</p>}
      {timeline?.status === 'error' && <p className="error">{timeline.message}</p>}
      {snapshots?.status === 'ready' && snapshots.value.length === 0 && (
        <div className="empty small">
          <p>No snapshots yet. Take one before you try something risky; reverting brings the VM back to that moment.</p>
        </div>
      )}
      <Filters filter={filter} onChange={setFilter} />
      {!snapshots || snapshots.status === 'loading' || !timeline || timeline.status === 'loading' ? (
        <p className="hint">Loading the timeline…</p>
      ) : (
        <TimelineList rows={rows} selection={selection} onSelect={setSelection} lastReverted={lastReverted} busy={busy} onAsk={setQuestion} />
      )}
      <TimelineSelection vm={vm} selection={selection} snapshots={snapshotList} busy={busy} onRevert={(snapshot) => setQuestion({ operation: 'revert', snapshot })} />
      {question && <SnapshotConfirm vm={vm} question={question} onConfirm={confirmed} onCancel={() => setQuestion(null)} />}
    </div>
  );
}

/** SnapshotForm takes a snapshot: of memory and disk while the VM runs, of the disk alone while it is stopped. */
function SnapshotForm({ vm, busy }: { vm: string; busy: boolean }) {
  const running = useXray((s) => s.vms[vm]?.state === 'ready' || s.vms[vm]?.state === 'booting');
  const { runSnapshot } = useActions();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const problem = name === '' ? null : nameProblem(name);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!name || problem || busy) return;
    void runSnapshot(vm, { operation: 'create', name, description: description || undefined });
    setName('');
    setDescription('');
  };

  return (
    <>
      <form className="inline-form" onSubmit={submit} aria-label="Take a snapshot">
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Snapshot name" aria-label="Snapshot name" aria-invalid={problem ? true : undefined} />
        <input value={description} onChange={(e) => setDescription(e.target.value)} placeholder="Note (optional)" aria-label="Snapshot note" />
        <button type="submit" className="primary" disabled={!name || !!problem || busy}>
          Take snapshot
        </button>
      </form>
      <p className="hint">{running ? 'The VM is running: a snapshot includes its memory and can be resumed.' : 'The VM is stopped: a snapshot holds the disk only.'}</p>
      {problem && <p className="field-error">The name {problem}.</p>}
    </>
  );
}

/** Filters hides kinds of event and keeps those whose words contain what is typed; snapshots always show. */
function Filters({ filter, onChange }: { filter: TimelineFilter; onChange: (next: TimelineFilter) => void }) {
  const toggle = (kind: EventFilter) => {
    const shown = new Set(filter.shown);
    if (!shown.delete(kind)) shown.add(kind);
    onChange({ ...filter, shown });
  };
  return (
    <div className="tl-filters" role="group" aria-label="Show">
      {EVENT_FILTERS.map(({ filter: kind, label }) => (
        <label key={kind} className="radio">
          <input type="checkbox" checked={filter.shown.has(kind)} onChange={() => toggle(kind)} />
          {label}
        </label>
      ))}
      <input type="search" value={filter.text} onChange={(e) => onChange({ ...filter, text: e.target.value })} placeholder="Host, program or hook" aria-label="Events containing" />
    </div>
  );
}

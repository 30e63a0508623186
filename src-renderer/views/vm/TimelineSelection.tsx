// Runs in: renderer. What can be done from the selected row of the timeline:
// go back to the last snapshot taken before an event (before the VM first
// reached some host, say), and revoke the rule that allowed or denied a
// connection. A rule from the default rules file is not the app's to revoke,
// and this says so.
import { useState } from 'react';
import { timelineText } from '../../../src-main/shared/format';
import type { SnapshotInfo, TimelineEntry } from '../../../src-main/shared/models';
import { useActions } from '../../store/context';
import { formatTime } from '../format';
import { ruleOf, snapshotBefore } from './timeline-rows';
import { entryKey, type Selection } from './TimelineList';

interface TimelineSelectionProps {
  readonly vm: string;
  readonly selection: Selection;
  readonly snapshots: readonly SnapshotInfo[];
  readonly busy: boolean;
  /** onRevert asks to revert to a snapshot (the confirmation comes first). */
  readonly onRevert: (snapshot: string) => void;
}

export function TimelineSelection({ vm, selection, snapshots, busy, onRevert }: TimelineSelectionProps) {
  if (selection === null) {
    return <p className="hint tl-selected">Select an event to go back to the last snapshot before it, or to revoke the rule that allowed it.</p>;
  }
  if (selection.kind === 'milestone') {
    const snap = snapshots.find((s) => s.name === selection.name);
    return (
      <section className="tl-selected" aria-label="Selected snapshot">
        <p>
          Snapshot “{selection.name}”{snap ? `, taken ${formatTime(snap.date)}` : ''}
          {snap?.description ? `: ${snap.description}` : '.'}
        </p>
      </section>
    );
  }
  return <EventActions key={entryKey(selection.entry)} vm={vm} entry={selection.entry} snapshots={snapshots} busy={busy} onRevert={onRevert} />;
}

function EventActions({ vm, entry, snapshots, busy, onRevert }: { vm: string; entry: TimelineEntry; snapshots: readonly SnapshotInfo[]; busy: boolean; onRevert: (snapshot: string) => void }) {
  const { removeRule } = useActions();
  const [revoking, setRevoking] = useState(false);
  const [outcome, setOutcome] = useState<{ failed: boolean; text: string } | null>(null);
  const before = snapshotBefore(snapshots, Date.parse(entry.at));
  const decided = entry.kind === 'network' && entry.rule !== null ? { id: entry.rule, ...ruleOf(entry.rule), verb: entry.action === 'allow' ? 'allowed' : 'denied' } : null;

  const revoke = async (id: string, target: string) => {
    setRevoking(true);
    setOutcome(null);
    try {
      await removeRule(vm, id);
      setOutcome({ failed: false, text: `Rule ${target} revoked.` });
    } catch (err) {
      setOutcome({ failed: true, text: err instanceof Error ? err.message : String(err) });
    } finally {
      setRevoking(false);
    }
  };

  return (
    <section className="tl-selected" aria-label="Selected event">
      <p>
        <span className="hint">{formatTime(entry.at)}</span> {timelineText(entry)}
      </p>
      <div className="tl-actions">
        {before ? (
          <button type="button" disabled={busy} onClick={() => onRevert(before.name)}>
            Revert to “{before.name}”, the last snapshot before this
          </button>
        ) : (
          <span className="hint">No snapshot was taken before this, so there is none to go back to.</span>
        )}
        {decided &&
          (decided.fromDefaults ? (
            <span className="hint">
              The default rule {decided.target} {decided.verb} this; default rules are changed in Xray's default rules file, not here.
            </span>
          ) : (
            <button type="button" disabled={revoking || outcome?.failed === false} onClick={() => void revoke(decided.id, decided.target)}>
              Revoke the rule that {decided.verb} this ({decided.target})
            </button>
          ))}
      </div>
      {outcome && (
        <p className={outcome.failed ? 'error' : 'hint'} role={outcome.failed ? 'alert' : 'status'}>
          {outcome.text}
        </p>
      )}
    </section>
  );
}

// Runs in: renderer. The timeline itself: one row per snapshot (a milestone,
// with its revert and delete), per event and for "now", windowed so a VM's
// ten thousand entries scroll as lightly as forty. A row is selected with a
// click or the keys; what can be done from it shows below (TimelineSelection).
import { memo, type Dispatch, type SetStateAction } from 'react';
import { formatBytes, timelineText } from '../../../src-main/shared/format';
import type { TimelineEntry } from '../../../src-main/shared/models';
import { formatShortTime } from '../format';
import { WindowedList } from '../WindowedList';
import type { SnapshotQuestion } from './SnapshotConfirm';
import type { TimelineRow } from './timeline-rows';

/** ROW_HEIGHT is every row's height in pixels (styles.css gives .timeline rows the same). */
const ROW_HEIGHT = 30;

/** Selection is the selected row: a snapshot by name (it survives a refetch), an event by the entry itself. */
export type Selection = { readonly kind: 'milestone'; readonly name: string } | { readonly kind: 'event'; readonly entry: TimelineEntry } | null;

function selectionOf(row: TimelineRow): Selection {
  if (row.kind === 'milestone') return { kind: 'milestone', name: row.snapshot.name };
  return row.kind === 'event' ? { kind: 'event', entry: row.entry } : null;
}

/** selectionAt is what selecting a row selects; "now" is no event, so the keys stop at the newest one before it. */
function selectionAt(rows: readonly TimelineRow[], index: number): Selection {
  const row = rows[index];
  if (row?.kind === 'now') return index > 0 ? selectionAt(rows, index - 1) : null;
  return row ? selectionOf(row) : null;
}

function isSelected(row: TimelineRow, selection: Selection): boolean {
  if (selection === null) return false;
  if (row.kind === 'milestone') return selection.kind === 'milestone' && selection.name === row.snapshot.name;
  return row.kind === 'event' && selection.kind === 'event' && selection.entry === row.entry;
}

/** entryIds numbers entries as they are first drawn, so a row keeps its key while older entries leave the list. */
const entryIds = new WeakMap<TimelineEntry, number>();
let lastEntryId = 0;

/** entryKey names one entry for as long as the app holds it. */
export function entryKey(entry: TimelineEntry): string {
  let id = entryIds.get(entry);
  if (id === undefined) entryIds.set(entry, (id = ++lastEntryId));
  return `entry:${id}`;
}

function rowKey(row: TimelineRow): string {
  if (row.kind === 'milestone') return `snapshot:${row.snapshot.name}`;
  return row.kind === 'now' ? 'now' : entryKey(row.entry);
}

/** markOf is the short word that tells an event's kind at a glance. */
function markOf(entry: TimelineEntry): { text: string; className: string } {
  switch (entry.kind) {
    case 'network':
      return entry.action === 'allow' ? { text: 'allowed', className: 'tag-allow' } : { text: 'denied', className: 'tag-deny' };
    case 'prompt':
      return { text: 'asked', className: 'tag-ask' };
    case 'hook':
      return { text: 'hook', className: entry.error === null && entry.exitCode === 0 ? 'tag-hook' : 'tag-deny' };
    case 'lifecycle':
      return { text: entry.event === 'crashed' ? 'crashed' : 'vm', className: entry.event === 'crashed' ? 'tag-deny' : 'tag-vm' };
    case 'snapshot':
      return { text: 'snapshot', className: 'tag-memory' };
    case 'egress':
      return { text: 'egress', className: entry.report.kind === 'secret-masked' ? 'tag-ask' : 'tag-deny' };
  }
}

interface TimelineListProps {
  readonly rows: readonly TimelineRow[];
  readonly selection: Selection;
  readonly onSelect: Dispatch<SetStateAction<Selection>>;
  /** lastReverted is the snapshot the VM was last reverted to; its milestone says so. */
  readonly lastReverted: string | null;
  readonly busy: boolean;
  readonly onAsk: (question: SnapshotQuestion) => void;
}

export function TimelineList({ rows, selection, onSelect, lastReverted, busy, onAsk }: TimelineListProps) {
  const selected = selection === null ? -1 : rows.findIndex((row) => isSelected(row, selection));
  return (
    <WindowedList
      items={rows}
      rowHeight={ROW_HEIGHT}
      label="Timeline, oldest first"
      className="timeline"
      rowKey={rowKey}
      selected={selected >= 0 ? selected : null}
      onSelect={(index) => onSelect(selectionAt(rows, index))}
      followEnd
      renderRow={(row, _index, style) => (
        <Row row={row} top={Number(style.top)} selected={isSelected(row, selection)} reverted={row.kind === 'milestone' && row.snapshot.name === lastReverted} busy={busy} onSelect={onSelect} onAsk={onAsk} />
      )}
    />
  );
}

interface RowProps {
  readonly row: TimelineRow;
  readonly top: number;
  readonly selected: boolean;
  readonly reverted: boolean;
  readonly busy: boolean;
  readonly onSelect: Dispatch<SetStateAction<Selection>>;
  readonly onAsk: (question: SnapshotQuestion) => void;
}

/** Row draws one row; memo keeps rows that stay in view from being drawn again as the list scrolls. */
const Row = memo(function Row({ row, top, selected, reverted, busy, onSelect, onAsk }: RowProps) {
  const style = { top, height: ROW_HEIGHT };
  if (row.kind === 'now') {
    return (
      <li style={style} className="tl-row now" data-now="">
        <span className="tl-time">Now</span>
        <span className="tl-text hint">The VM as it is</span>
      </li>
    );
  }
  const select = () => onSelect(selectionOf(row));
  const current = selected ? { 'aria-current': true as const } : {};
  if (row.kind === 'event') {
    const mark = markOf(row.entry);
    return (
      <li style={style} className={`tl-row event${selected ? ' selected' : ''}`} data-kind={row.entry.kind} onClick={select} {...current}>
        <span className="tl-time">{formatShortTime(row.time)}</span>
        <span className={`tag ${mark.className}`}>{mark.text}</span>
        <span className="tl-text">{timelineText(row.entry)}</span>
      </li>
    );
  }
  const snap = row.snapshot;
  return (
    <li style={style} className={`tl-row milestone ${snap.hasMemory ? 'memory' : 'disk'}${selected ? ' selected' : ''}`} data-snapshot={snap.name} onClick={select} {...current}>
      <span className="tl-time">{formatShortTime(row.time)}</span>
      <span className="dot" aria-hidden="true" />
      <span className="tl-text">
        <strong>{snap.name}</strong> <span className={`tag ${snap.hasMemory ? 'tag-memory' : 'tag-disk'}`}>{snap.hasMemory ? `memory · ${formatBytes(snap.vmStateSize)}` : 'disk only'}</span>
        {snap.auto && <span className="tag tag-auto" title="Taken by Xray: after the first boot or before a risky hook; only these are pruned">automatic</span>}
        {reverted && <span className="tag tag-reverted">last reverted to</span>}
        {snap.description && <span className="hint"> {snap.description}</span>}
      </span>
      <span className="snap-actions">
        <button type="button" disabled={busy} onClick={() => onAsk({ operation: 'revert', snapshot: snap.name })} aria-label={`Revert to ${snap.name}`}>
          Revert
        </button>
        <button type="button" disabled={busy} onClick={() => onAsk({ operation: 'delete', snapshot: snap.name })} aria-label={`Delete ${snap.name}`}>
          Delete
        </button>
      </span>
    </li>
  );
});

// Runs in: renderer (pure). What the Timeline tab lists: a VM's timeline
// entries with its snapshots as milestones between them, filtered, ending in
// "now"; and the facts its actions need (the last snapshot before a moment,
// the snapshot last reverted to, whose rule decided a connection).
import { timelineText } from '../../../src-main/shared/format';
import type { SnapshotInfo, TimelineEntry } from '../../../src-main/shared/models';

/** TimelineRow is one line of the list: a snapshot that exists, something the VM did, or the present. */
export type TimelineRow =
  | { readonly kind: 'milestone'; readonly snapshot: SnapshotInfo; readonly time: number }
  | { readonly kind: 'event'; readonly entry: TimelineEntry; readonly time: number }
  | { readonly kind: 'now' };

/** EventFilter names the kinds of event a person can hide; snapshots that exist always show, as landmarks. */
export type EventFilter = 'allowed' | 'denied' | 'prompt' | 'egress' | 'hook' | 'lifecycle' | 'snapshot';

export const EVENT_FILTERS: readonly { readonly filter: EventFilter; readonly label: string }[] = [
  { filter: 'allowed', label: 'Allowed' },
  { filter: 'denied', label: 'Denied' },
  { filter: 'prompt', label: 'Questions' },
  { filter: 'egress', label: 'Secrets and requests' },
  { filter: 'hook', label: 'Hooks' },
  { filter: 'lifecycle', label: 'Starts and stops' },
  { filter: 'snapshot', label: 'Snapshot changes' },
];

export interface TimelineFilter {
  /** shown are the kinds of event listed; all of them unless the person hid some. */
  readonly shown: ReadonlySet<EventFilter>;
  /** text keeps the events whose words contain it (any case); empty keeps all. */
  readonly text: string;
}

export const ALL_EVENTS: TimelineFilter = { shown: new Set(EVENT_FILTERS.map((f) => f.filter)), text: '' };

/** snapshotTime is when a snapshot was taken, in ms; a date that does not parse counts as the beginning. */
function snapshotTime(snapshot: SnapshotInfo): number {
  const t = Date.parse(snapshot.date.includes('T') ? snapshot.date : snapshot.date.replace(' ', 'T'));
  return Number.isNaN(t) ? 0 : t;
}

/** inTimeOrder sorts snapshots oldest first; dates that do not parse keep their list order. */
function inTimeOrder(list: readonly SnapshotInfo[]): SnapshotInfo[] {
  return [...list].map((s, i) => ({ s, i })).sort((a, b) => snapshotTime(a.s) - snapshotTime(b.s) || a.i - b.i).map((x) => x.s);
}

function filterOf(entry: TimelineEntry): EventFilter {
  if (entry.kind === 'network') return entry.action === 'allow' ? 'allowed' : 'denied';
  return entry.kind;
}

/**
 * timelineRows merges a VM's entries (oldest first, as vm.timeline gives
 * them) with its snapshots by time, keeps the events the filter shows, and
 * ends with "now". A snapshot that exists is its milestone, so its own
 * "created" entry is not listed twice.
 */
export function timelineRows(entries: readonly TimelineEntry[], snapshots: readonly SnapshotInfo[], filter: TimelineFilter): TimelineRow[] {
  const existing = new Set(snapshots.map((s) => s.name));
  const text = filter.text.trim().toLowerCase();
  const milestones = inTimeOrder(snapshots);
  const rows: TimelineRow[] = [];
  let next = 0;
  for (const entry of entries) {
    const time = Date.parse(entry.at);
    while (next < milestones.length && snapshotTime(milestones[next]!) <= time) {
      const snapshot = milestones[next++]!;
      rows.push({ kind: 'milestone', snapshot, time: snapshotTime(snapshot) });
    }
    if (entry.kind === 'snapshot' && entry.event === 'created' && existing.has(entry.name)) continue;
    if (!filter.shown.has(filterOf(entry))) continue;
    if (text !== '' && !timelineText(entry).toLowerCase().includes(text)) continue;
    rows.push({ kind: 'event', entry, time });
  }
  for (const snapshot of milestones.slice(next)) rows.push({ kind: 'milestone', snapshot, time: snapshotTime(snapshot) });
  rows.push({ kind: 'now' });
  return rows;
}

/** lastRevertedTo is the snapshot the VM was last reverted to: the newest "reverted" entry's; null when it never was. */
export function lastRevertedTo(entries: readonly TimelineEntry[]): string | null {
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    if (entry.kind === 'snapshot' && entry.event === 'reverted') return entry.name;
  }
  return null;
}

/** snapshotBefore is the newest snapshot taken at or before `time`, to go back to before something happened; null when none was. */
export function snapshotBefore(snapshots: readonly SnapshotInfo[], time: number): SnapshotInfo | null {
  let best: SnapshotInfo | null = null;
  for (const snapshot of snapshots) {
    const t = snapshotTime(snapshot);
    if (t <= time && (best === null || t >= snapshotTime(best))) best = snapshot;
  }
  return best;
}

/**
 * DEFAULT_RULE_PREFIX starts the id of a rule from the default rules file
 * (`default:*.debian.org`); a VM's own rule's id is its target. Only the VM's
 * own rules can be revoked; the defaults file is edited by hand.
 */
const DEFAULT_RULE_PREFIX = 'default:';

/** ruleOf tells whose rule decided a connection: its target as shown, and whether it comes from the default rules file. */
export function ruleOf(id: string): { readonly target: string; readonly fromDefaults: boolean } {
  const fromDefaults = id.startsWith(DEFAULT_RULE_PREFIX);
  return { target: fromDefaults ? id.slice(DEFAULT_RULE_PREFIX.length) : id, fromDefaults };
}

// Runs in: renderer. The timeline slice: what each VM did (vm.timeline),
// fetched once when first shown and kept current by timeline.entry events,
// bounded to the newest TIMELINE_LIMIT entries.
import type { XrayEvent } from '../../src-main/shared/contract';
import type { TimelineEntry } from '../../src-main/shared/models';
import { loadEntry, putEntry } from './helpers';
import type { SliceContext, TimelineSlice } from './types';

/** TIMELINE_LIMIT is how many of a VM's newest entries the app keeps: hours of a busy VM, and a list the tab shows windowed. */
const TIMELINE_LIMIT = 10_000;

/**
 * arriving keeps, per store and VM, entries announced while that VM's
 * timeline is being fetched: the reply may or may not hold them, so they are
 * added afterwards unless it does.
 */
const arriving = new WeakMap<SliceContext, Map<string, TimelineEntry[]>>();

function arrivals(ctx: SliceContext): Map<string, TimelineEntry[]> {
  let map = arriving.get(ctx);
  if (!map) arriving.set(ctx, (map = new Map()));
  return map;
}

/** withNewer adds to a fetched timeline the entries it does not hold yet, keeping the newest TIMELINE_LIMIT. */
function withNewer(fetched: readonly TimelineEntry[], later: readonly TimelineEntry[]): readonly TimelineEntry[] {
  if (later.length === 0) return fetched;
  const from = later[0]!.at;
  const held = new Set(fetched.filter((e) => e.at >= from).map((e) => JSON.stringify(e)));
  return [...fetched, ...later.filter((e) => !held.has(JSON.stringify(e)))].slice(-TIMELINE_LIMIT);
}

/** timelineSlice builds the timeline slice; entries are added only by onTimelineEvent. */
export function timelineSlice(ctx: SliceContext): TimelineSlice {
  const { client, get } = ctx;
  return {
    timelines: {},
    async loadTimeline(vm) {
      if (get().timelines[vm]?.status === 'ready' || arrivals(ctx).has(vm)) return;
      arrivals(ctx).set(vm, []);
      try {
        await loadEntry(ctx, 'timelines', vm, () => client.call('vm.timeline', { vm, limit: TIMELINE_LIMIT }));
      } finally {
        const later = arrivals(ctx).get(vm) ?? [];
        arrivals(ctx).delete(vm);
        const loaded = get().timelines[vm];
        if (loaded?.status === 'ready') putEntry(ctx, 'timelines', vm, { status: 'ready', value: withNewer(loaded.value, later) });
      }
    },
  };
}

/** onTimelineEvent adds an announced entry to its VM's timeline, if that timeline is shown or being fetched. */
export function onTimelineEvent(ctx: SliceContext, event: Extract<XrayEvent, { type: 'timeline.entry' }>): void {
  const { entry } = event;
  const waiting = arrivals(ctx).get(entry.vm);
  if (waiting) {
    waiting.push(entry);
    return;
  }
  const current = ctx.get().timelines[entry.vm];
  if (current?.status !== 'ready') return;
  const list = current.value;
  putEntry(ctx, 'timelines', entry.vm, { status: 'ready', value: list.length < TIMELINE_LIMIT ? [...list, entry] : [...list.slice(1), entry] });
}

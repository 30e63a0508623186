// Runs in: renderer. The pulls slice: the catalog of images Xray can get
// (base.catalog), and getting them (base.pull) with progress from the API's
// base.progress events, cancel (base.cancel), and the New VM dialog opened on
// the new base once it is in.
import type { XrayEvent } from '../../src-main/shared/contract';
import { CallError } from '../../src-main/shared/transport';
import { loadAll, message } from './helpers';
import type { PullEvent, PullJob, PullsSlice, SliceContext } from './types';

type BaseEvent = Extract<XrayEvent, { type: 'base.changed' | 'base.progress' }>;

/** pullsSlice builds the pulls slice; a pull reports each step as an event, so only onPullEvent writes its job. */
export function pullsSlice(ctx: SliceContext): PullsSlice {
  const { client, get } = ctx;
  const emit = (event: PullEvent) => get().handleEvent(event);
  return {
    platform: client.platform,
    catalog: null,
    pulls: {},
    loadCatalog: () => loadAll(ctx, 'catalog', () => client.call('base.catalog', {})),
    async pullBase(entry) {
      const running = get().pulls[entry.name];
      if (running && running.phase !== 'failed') return;
      emit({ type: 'pull.started', name: entry.name, arch: entry.arch, title: entry.title });
      try {
        await client.call('base.pull', { source: entry.name, arch: entry.arch });
        emit({ type: 'pull.finished', name: entry.name, error: null });
        await Promise.all([get().refreshBases(), get().loadCatalog()]);
        if (!get().newVm) get().openNewVm(entry.name);
      } catch (err) {
        emit({ type: 'pull.finished', name: entry.name, error: err instanceof CallError && err.code === 'cancelled' ? null : message(err) });
      }
    },
    async cancelPull(name) {
      emit({ type: 'pull.cancelling', name });
      try {
        await client.call('base.cancel', { name });
      } catch {
        // Nothing was left to cancel: the pull ended as the request went, and its own outcome (in, or why not) is what shows.
      }
    },
    dismissPull: (name) => emit({ type: 'pull.dismissed', name }),
  };
}

/** nextJob is a pull's job after one event (undefined: no job); progress for a pull not started here, or being cancelled, changes nothing. */
function nextJob(job: PullJob | undefined, event: PullEvent | Extract<BaseEvent, { type: 'base.progress' }>): PullJob | undefined {
  switch (event.type) {
    case 'pull.started':
      return { name: event.name, arch: event.arch, title: event.title, phase: 'starting', done: 0, total: 0, bytesPerSecond: null };
    case 'pull.dismissed':
      return undefined;
    case 'pull.finished':
      return !job || event.error === null ? undefined : { ...job, phase: 'failed', error: event.error };
    case 'pull.cancelling':
      return job && job.phase !== 'failed' ? { ...job, phase: 'cancelling' } : job;
    case 'base.progress':
      if (!job || job.phase === 'cancelling' || job.phase === 'failed' || event.phase === undefined) return job;
      return { ...job, phase: event.phase, done: event.done, total: event.total, bytesPerSecond: event.bytesPerSecond ?? null };
  }
}

/** onPullEvent applies every step of a pull (the only writer of pulls), and fetches the catalog again when the bases change. */
export function onPullEvent(ctx: SliceContext, event: PullEvent | BaseEvent): void {
  if (event.type === 'base.changed') {
    if (ctx.get().catalog) void ctx.get().loadCatalog();
    return;
  }
  const pulls = ctx.get().pulls;
  const job = pulls[event.name];
  const next = nextJob(job, event);
  if (next === job) return;
  const rest = { ...pulls };
  delete rest[event.name];
  ctx.set({ pulls: next ? { ...rest, [event.name]: next } : rest });
}

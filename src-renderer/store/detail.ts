// Runs in: renderer. The detail slice: what a VM's tabs show beyond its
// summary (snapshots and their jobs, hooks and their runs, plugin commands).
import type { XrayEvent } from '../../src-main/shared/contract';
import type { HookRun, HookRunRecord } from '../../src-main/shared/models';
import type { XrayClient } from '../client/types';
import { LOG_LIMIT, loadAll, loadEntry, message, putEntry } from './helpers';
import type { DetailSlice, SliceContext, SnapshotJob, SnapshotRequest } from './types';

type DetailEvent = Extract<XrayEvent, { type: 'snapshot.progress' | 'hook.started' | 'hook.finished' | 'hook.output' | 'vm.changed' }>;

/** HOOK_RUNS_LIMIT is how many of a VM's runs the Hooks tab keeps: the newest, as `hooks.runs` gives them. */
const HOOK_RUNS_LIMIT = 50;

/** callSnapshot sends one snapshot request as the API method that does it. */
function callSnapshot(client: XrayClient, vm: string, request: SnapshotRequest): Promise<unknown> {
  switch (request.operation) {
    case 'create':
      return client.call('snapshot.create', { vm, name: request.name, description: request.description });
    case 'revert':
      return client.call('snapshot.revert', { vm, name: request.name });
    case 'delete':
      return client.call('snapshot.delete', { vm, name: request.name });
  }
}

/** detailSlice builds the detail slice; its snapshot jobs change only through onDetailEvent. */
export function detailSlice(ctx: SliceContext): DetailSlice {
  const { client, get } = ctx;
  return {
    snapshots: {},
    snapshotJobs: {},
    hookScripts: {},
    hookRuns: {},
    shares: {},
    plugins: null,
    async loadDetail(name) {
      await Promise.all([
        get().refreshVm(name),
        get().refreshSnapshots(name),
        get().loadRules(name),
        get().loadFirewallLog(name),
        loadEntry(ctx, 'hookScripts', name, () => client.call('hooks.list', { vm: name })),
        get().loadHookRuns(name),
        get().loadShares(name),
      ]);
    },
    refreshSnapshots: (vm) => loadEntry(ctx, 'snapshots', vm, () => client.call('snapshot.list', { vm })),
    /**
     * The job follows the same snapshot.progress events the service sends, fed
     * to the event handler from here too: a refusal before the service starts
     * (no event) still shows, and a repeated event changes nothing.
     */
    async runSnapshot(vm, request) {
      const progress = (status: SnapshotJob['status'], error?: string) =>
        get().handleEvent({ type: 'snapshot.progress', vm, name: request.name, operation: request.operation, status, ...(error === undefined ? {} : { error }) });
      progress('running');
      try {
        await callSnapshot(client, vm, request);
        progress('done');
      } catch (err) {
        progress('failed', message(err));
      }
    },
    loadHookRuns: (vm) => loadEntry(ctx, 'hookRuns', vm, () => client.call('hooks.runs', { vm, limit: HOOK_RUNS_LIMIT })),
    loadShares: (vm) => loadEntry(ctx, 'shares', vm, () => client.call('share.list', { vm })),
    async addShare(vm, share) {
      const change = await client.call('share.add', { vm, ...share });
      await get().loadShares(vm);
      return change;
    },
    async removeShare(vm, guestPath) {
      const change = await client.call('share.remove', { vm, path: guestPath });
      await get().loadShares(vm);
      return change;
    },
    // Asked at every visit: plugins come and go in XRAY_HOME/plugins while the window is open.
    loadPlugins: () => loadAll(ctx, 'plugins', () => client.call('plugin.list', {})),
    async runPlugin(plugin, command, vm) {
      const { output } = await client.call('plugin.run', { plugin, command, args: [vm] });
      return output;
    },
  };
}

function sameJob(a: SnapshotJob | undefined, b: SnapshotJob): boolean {
  return a !== undefined && a.name === b.name && a.operation === b.operation && a.status === b.status && a.error === b.error;
}

function sameRun(a: HookRun, b: HookRun): boolean {
  return a.script === b.script && a.type === b.type && a.startedAt === b.startedAt;
}

/**
 * putHookRun records a run that started or finished: a new run is added with
 * no output yet, a known one keeps the output it printed. Runs of a VM whose
 * list was never fetched are left to that fetch.
 */
function putHookRun(ctx: SliceContext, run: HookRun): void {
  const current = ctx.get().hookRuns[run.vm];
  if (current?.status !== 'ready') return;
  const list = current.value;
  const durationMs = run.finishedAt === null ? null : Date.parse(run.finishedAt) - Date.parse(run.startedAt);
  const index = list.findIndex((r) => sameRun(r.run, run));
  const next: HookRunRecord[] =
    index >= 0 ? list.map((r, i) => (i === index ? { ...r, run, durationMs } : r)) : [...list, { run, durationMs, output: [] }];
  putEntry(ctx, 'hookRuns', run.vm, { status: 'ready', value: next.slice(-HOOK_RUNS_LIMIT) });
}

/** putHookOutput adds printed lines to the run of that script still running, keeping its last LOG_LIMIT lines. */
function putHookOutput(ctx: SliceContext, event: Extract<DetailEvent, { type: 'hook.output' }>): void {
  const current = ctx.get().hookRuns[event.vm];
  if (current?.status !== 'ready') return;
  const list = current.value;
  const index = list.findLastIndex((r) => r.run.script === event.script && r.run.finishedAt === null);
  if (index < 0) return;
  const lines = event.text.replace(/\n$/, '').split('\n').map((text) => ({ stream: event.stream, text }));
  const next = list.map((r, i) => (i === index ? { ...r, output: [...r.output, ...lines].slice(-LOG_LIMIT) } : r));
  putEntry(ctx, 'hookRuns', event.vm, { status: 'ready', value: next });
}

/**
 * onDetailEvent applies snapshot progress (the only writer of snapshotJobs),
 * hook runs as they start, print and finish, and fetches the shares of a VM
 * whose vm.toml changed (someone's `xray share add`) when they are shown.
 */
export function onDetailEvent(ctx: SliceContext, event: DetailEvent): void {
  const { set, get } = ctx;
  switch (event.type) {
    case 'snapshot.progress': {
      const job: SnapshotJob = { name: event.name, operation: event.operation, status: event.status, ...(event.error === undefined ? {} : { error: event.error }) };
      if (sameJob(get().snapshotJobs[event.vm], job)) return;
      set({ snapshotJobs: { ...get().snapshotJobs, [event.vm]: job } });
      if (job.status !== 'running') void get().refreshSnapshots(event.vm);
      return;
    }
    case 'hook.started':
    case 'hook.finished':
      putHookRun(ctx, event.run);
      return;
    case 'hook.output':
      putHookOutput(ctx, event);
      return;
    case 'vm.changed':
      if (get().shares[event.vm]) void get().loadShares(event.vm);
      return;
  }
}

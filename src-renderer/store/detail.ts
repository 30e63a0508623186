// Runs in: renderer. The detail slice: what a VM's tabs show beyond its
// summary (snapshots and their jobs, hooks, the console, plugin commands).
import type { XrayEvent } from '../../src-main/shared/contract';
import type { HookRun } from '../../src-main/shared/models';
import type { XrayClient } from '../client/types';
import { LOG_LIMIT, loadAll, loadEntry, message } from './helpers';
import type { DetailSlice, SliceContext, SnapshotJob, SnapshotRequest } from './types';

type DetailEvent = Extract<XrayEvent, { type: 'snapshot.progress' | 'hook.started' | 'hook.finished' | 'hook.output' }>;

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
    hookOutput: {},
    consoleTail: {},
    plugins: null,
    async loadDetail(name) {
      await Promise.all([
        get().refreshVm(name),
        get().refreshSnapshots(name),
        get().loadRules(name),
        get().loadFirewallLog(name),
        loadEntry(ctx, 'hookScripts', name, () => client.call('hooks.list', { vm: name })),
        get().loadConsole(name),
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
    loadConsole: (vm) => loadEntry(ctx, 'consoleTail', vm, () => client.call('vm.console', { name: vm, lines: LOG_LIMIT })),
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

function putHookRun({ set, get }: SliceContext, run: HookRun): void {
  const list = get().hookRuns[run.vm] ?? [];
  const index = list.findIndex((r) => r.script === run.script && r.startedAt === run.startedAt);
  const next = index >= 0 ? list.map((r, i) => (i === index ? run : r)) : [...list, run];
  set({ hookRuns: { ...get().hookRuns, [run.vm]: next.slice(-LOG_LIMIT) } });
}

/** onDetailEvent applies snapshot progress (the only writer of snapshotJobs) and hook runs and output. */
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
    case 'hook.output': {
      const lines = [...(get().hookOutput[event.vm] ?? []), `${event.script}: ${event.text.trimEnd()}`].slice(-LOG_LIMIT);
      set({ hookOutput: { ...get().hookOutput, [event.vm]: lines } });
      return;
    }
  }
}

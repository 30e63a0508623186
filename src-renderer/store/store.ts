// Runs in: renderer. The app's state: what Xray reported, kept up to date by
// its events. Each VM's summary is its own object so one VM's update changes
// only that key and only that row re-renders (rows select by name).
import { baseNameFromFile } from '../../src-main/shared/names';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Params, Results } from '../../src-main/shared/contract';
import type { BaseInfo, FirewallLogEntry, FirewallPrompt, FirewallRule, HookRun, SnapshotInfo, VmInfo, VmSummary } from '../../src-main/shared/models';
import type { XrayEvent } from '../../src-main/shared/contract';
import type { XrayClient } from '../client/types';

/** LOG_LIMIT bounds the firewall log and console lines kept per VM. */
export const LOG_LIMIT = 200;

/** Loadable is data fetched on demand: not yet asked, there, or the error that came instead. */
export type Loadable<T> =
  | { readonly status: 'loading' }
  | { readonly status: 'ready'; readonly value: T }
  | { readonly status: 'error'; readonly message: string };

export interface SnapshotJob {
  readonly name: string;
  readonly operation: 'create' | 'revert' | 'delete';
  readonly status: 'running' | 'done' | 'failed';
  readonly error?: string;
}

export interface ImportJob {
  readonly file: string;
  readonly phase: 'uploading' | 'importing' | 'failed' | 'done';
  readonly done: number;
  readonly total: number;
  readonly error?: string;
}

export type View = { readonly kind: 'vms' } | { readonly kind: 'vm'; readonly name: string } | { readonly kind: 'bases' };

export interface XrayState {
  readonly view: View;
  readonly vms: Readonly<Record<string, VmSummary>>;
  /** vmNames is the list order (alphabetical); it changes only when VMs come or go. */
  readonly vmNames: readonly string[];
  readonly vmsError: string | null;
  readonly vmsLoaded: boolean;
  readonly bases: Loadable<readonly BaseInfo[]>;
  readonly info: Readonly<Record<string, Loadable<VmInfo>>>;
  readonly snapshots: Readonly<Record<string, Loadable<readonly SnapshotInfo[]>>>;
  readonly snapshotJobs: Readonly<Record<string, SnapshotJob>>;
  readonly rules: Readonly<Record<string, Loadable<readonly FirewallRule[]>>>;
  readonly firewallLog: Readonly<Record<string, Loadable<readonly FirewallLogEntry[]>>>;
  readonly hookScripts: Readonly<Record<string, Loadable<Results['hooks.list']>>>;
  /** hookRuns holds the runs seen since this window opened (the API keeps no history). */
  readonly hookRuns: Readonly<Record<string, readonly HookRun[]>>;
  readonly hookOutput: Readonly<Record<string, readonly string[]>>;
  readonly consoleTail: Readonly<Record<string, Loadable<readonly string[]>>>;
  readonly prompts: readonly FirewallPrompt[];
  readonly promptsError: string | null;
  /**
   * abandonedPrompts are prompts that closed because every connection waiting
   * on them went away before anyone answered, oldest first; the window says so
   * briefly, so a question that vanishes unanswered is not a mystery.
   */
  readonly abandonedPrompts: readonly FirewallPrompt[];
  readonly importJob: ImportJob | null;
  /** actionErrors holds why the last start or stop of a VM failed. */
  readonly actionErrors: Readonly<Record<string, string>>;
}

export interface XrayActions {
  show(view: View): void;
  load(): Promise<void>;
  refreshVms(): Promise<void>;
  refreshVm(name: string): Promise<void>;
  refreshBases(): Promise<void>;
  loadDetail(name: string): Promise<void>;
  refreshSnapshots(vm: string): Promise<void>;
  refreshPrompts(): Promise<void>;
  loadFirewallLog(vm: string): Promise<void>;
  loadConsole(vm: string): Promise<void>;
  startVm(name: string): Promise<void>;
  stopVm(name: string): Promise<void>;
  createVm(params: Params<'vm.create'>): Promise<VmSummary>;
  updateVm(params: Params<'vm.update'>): Promise<void>;
  createSnapshot(vm: string, name: string, description?: string): Promise<void>;
  revertSnapshot(vm: string, name: string): Promise<void>;
  deleteSnapshot(vm: string, name: string): Promise<void>;
  answerPrompt(params: Params<'prompt.answer'>): Promise<void>;
  /** clearAbandoned forgets the abandoned prompts once their notice has been shown. */
  clearAbandoned(): void;
  importFile(file: File): Promise<void>;
  cancelImport(): void;
  handleEvent(event: XrayEvent): void;
}

export type XrayStore = StoreApi<XrayState & XrayActions>;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function byName(a: string, b: string): number {
  return a.localeCompare(b);
}

const initial: XrayState = {
  view: { kind: 'vms' },
  vms: {},
  vmNames: [],
  vmsError: null,
  vmsLoaded: false,
  bases: { status: 'loading' },
  info: {},
  snapshots: {},
  snapshotJobs: {},
  rules: {},
  firewallLog: {},
  hookScripts: {},
  hookRuns: {},
  hookOutput: {},
  consoleTail: {},
  prompts: [],
  promptsError: null,
  abandonedPrompts: [],
  importJob: null,
  actionErrors: {},
};

/** sameSummary tells whether two summaries show the same thing, so an unchanged row keeps its object. */
function sameSummary(a: VmSummary, b: VmSummary): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * createXrayStore builds the state and actions over one client. Events are
 * applied by handleEvent; the caller subscribes it (see connectStore).
 */
export function createXrayStore(client: XrayClient): XrayStore {
  let importCancelled = false;
  return createStore<XrayState & XrayActions>()((set, get) => {
    const putVm = (summary: VmSummary) => {
      const { vms, vmNames } = get();
      const old = vms[summary.name];
      if (old && sameSummary(old, summary)) return;
      set({
        vms: { ...vms, [summary.name]: summary },
        vmNames: old ? vmNames : [...vmNames, summary.name].sort(byName),
      });
    };
    const setKey = <K extends 'info' | 'snapshots' | 'rules' | 'firewallLog' | 'hookScripts' | 'consoleTail'>(key: K, vm: string, value: XrayState[K][string]) => {
      set({ [key]: { ...get()[key], [vm]: value } } as Partial<XrayState>);
    };
    const load = async <K extends 'info' | 'snapshots' | 'rules' | 'firewallLog' | 'hookScripts' | 'consoleTail'>(
      key: K,
      vm: string,
      fetcher: () => Promise<unknown>,
    ): Promise<void> => {
      if (!get()[key][vm]) setKey(key, vm, { status: 'loading' } as XrayState[K][string]);
      try {
        setKey(key, vm, { status: 'ready', value: await fetcher() } as XrayState[K][string]);
      } catch (err) {
        setKey(key, vm, { status: 'error', message: message(err) } as XrayState[K][string]);
      }
    };
    const setActionError = (name: string, error: string | null) => {
      const next = { ...get().actionErrors };
      if (error === null) delete next[name];
      else next[name] = error;
      set({ actionErrors: next });
    };
    const appendLog = (vm: string, entry: FirewallLogEntry) => {
      const current = get().firewallLog[vm];
      const list = current?.status === 'ready' ? current.value : [];
      setKey('firewallLog', vm, { status: 'ready', value: [...list, entry].slice(-LOG_LIMIT) });
    };
    const putHookRun = (run: HookRun) => {
      const list = get().hookRuns[run.vm] ?? [];
      const index = list.findIndex((r) => r.script === run.script && r.startedAt === run.startedAt);
      const next = index >= 0 ? list.map((r, i) => (i === index ? run : r)) : [...list, run];
      set({ hookRuns: { ...get().hookRuns, [run.vm]: next.slice(-LOG_LIMIT) } });
    };

    return {
      ...initial,
      show(view) {
        set({ view });
        if (view.kind === 'vm') void get().loadDetail(view.name);
        if (view.kind === 'bases') void get().refreshBases();
      },
      async load() {
        await Promise.all([get().refreshVms(), get().refreshBases(), get().refreshPrompts()]);
      },
      async refreshVms() {
        try {
          const list = await client.call('vm.list', {});
          const old = get().vms;
          const vms: Record<string, VmSummary> = {};
          for (const summary of list) {
            const previous = old[summary.name];
            vms[summary.name] = previous && sameSummary(previous, summary) ? previous : summary;
          }
          const names = list.map((v) => v.name).sort(byName);
          const sameNames = names.length === get().vmNames.length && names.every((n, i) => n === get().vmNames[i]);
          // The benchmark measures from here to the list's first commit (VmList marks that).
          if (!get().vmsLoaded) performance.mark('xray:vms-loaded');
          set({ vms, vmNames: sameNames ? get().vmNames : names, vmsError: null, vmsLoaded: true });
        } catch (err) {
          set({ vmsError: message(err), vmsLoaded: true });
        }
      },
      async refreshVm(name) {
        try {
          const info = await client.call('vm.info', { name });
          putVm(info.summary);
          setKey('info', name, { status: 'ready', value: info });
          setKey('snapshots', name, { status: 'ready', value: info.snapshots });
        } catch (err) {
          setKey('info', name, { status: 'error', message: message(err) });
        }
      },
      async refreshBases() {
        try {
          set({ bases: { status: 'ready', value: await client.call('base.list', {}) } });
        } catch (err) {
          set({ bases: { status: 'error', message: message(err) } });
        }
      },
      async loadDetail(name) {
        await Promise.all([
          get().refreshVm(name),
          get().refreshSnapshots(name),
          load('rules', name, () => client.call('firewall.rules', { vm: name })),
          get().loadFirewallLog(name),
          load('hookScripts', name, () => client.call('hooks.list', { vm: name })),
          get().loadConsole(name),
        ]);
      },
      async refreshSnapshots(vm) {
        await load('snapshots', vm, () => client.call('snapshot.list', { vm }));
      },
      async loadFirewallLog(vm) {
        await load('firewallLog', vm, () => client.call('firewall.log', { vm, limit: LOG_LIMIT }));
      },
      async loadConsole(vm) {
        await load('consoleTail', vm, () => client.call('vm.console', { name: vm, lines: LOG_LIMIT }));
      },
      async refreshPrompts() {
        try {
          const listed = await client.call('prompt.list', {});
          const known = new Set(get().prompts.map((p) => p.id));
          set({ prompts: [...get().prompts, ...listed.filter((p) => !known.has(p.id))], promptsError: null });
        } catch (err) {
          set({ promptsError: message(err) });
        }
      },
      async startVm(name) {
        setActionError(name, null);
        try {
          putVm(await client.call('vm.start', { name }));
        } catch (err) {
          setActionError(name, message(err));
        }
      },
      async stopVm(name) {
        setActionError(name, null);
        try {
          putVm(await client.call('vm.stop', { name }));
        } catch (err) {
          setActionError(name, message(err));
        }
      },
      async createVm(params) {
        const summary = await client.call('vm.create', params);
        putVm(summary);
        return summary;
      },
      async updateVm(params) {
        putVm(await client.call('vm.update', params));
        await get().refreshVm(params.name);
      },
      async createSnapshot(vm, name, description) {
        set({ snapshotJobs: { ...get().snapshotJobs, [vm]: { name, operation: 'create', status: 'running' } } });
        try {
          await client.call('snapshot.create', { vm, name, description });
          set({ snapshotJobs: { ...get().snapshotJobs, [vm]: { name, operation: 'create', status: 'done' } } });
        } catch (err) {
          set({ snapshotJobs: { ...get().snapshotJobs, [vm]: { name, operation: 'create', status: 'failed', error: message(err) } } });
        }
        await get().refreshSnapshots(vm);
      },
      async revertSnapshot(vm, name) {
        set({ snapshotJobs: { ...get().snapshotJobs, [vm]: { name, operation: 'revert', status: 'running' } } });
        try {
          await client.call('snapshot.revert', { vm, name });
          set({ snapshotJobs: { ...get().snapshotJobs, [vm]: { name, operation: 'revert', status: 'done' } } });
        } catch (err) {
          set({ snapshotJobs: { ...get().snapshotJobs, [vm]: { name, operation: 'revert', status: 'failed', error: message(err) } } });
        }
      },
      async deleteSnapshot(vm, name) {
        set({ snapshotJobs: { ...get().snapshotJobs, [vm]: { name, operation: 'delete', status: 'running' } } });
        try {
          await client.call('snapshot.delete', { vm, name });
          set({ snapshotJobs: { ...get().snapshotJobs, [vm]: { name, operation: 'delete', status: 'done' } } });
        } catch (err) {
          set({ snapshotJobs: { ...get().snapshotJobs, [vm]: { name, operation: 'delete', status: 'failed', error: message(err) } } });
        }
        await get().refreshSnapshots(vm);
      },
      async answerPrompt(params) {
        await client.call('prompt.answer', params);
        set({ prompts: get().prompts.filter((p) => p.id !== params.id) });
      },
      clearAbandoned() {
        set({ abandonedPrompts: [] });
      },
      async importFile(file) {
        importCancelled = false;
        const total = file.size;
        try {
          let path: string;
          if (client.pathForFile) {
            path = client.pathForFile(file);
          } else if (client.upload) {
            set({ importJob: { file: file.name, phase: 'uploading', done: 0, total } });
            path = await client.upload(file, (done, size) => {
              if (!importCancelled) set({ importJob: { file: file.name, phase: 'uploading', done, total: size } });
            });
          } else {
            throw new Error('This window cannot read dropped files; use "xray base import PATH" instead.');
          }
          if (importCancelled) return;
          set({ importJob: { file: file.name, phase: 'importing', done: 0, total } });
          const name = baseNameFromFile(file.name);
          await client.call('base.import', { path, name });
          if (importCancelled) return;
          set({ importJob: { file: file.name, phase: 'done', done: total, total } });
          await get().refreshBases();
        } catch (err) {
          if (!importCancelled) set({ importJob: { file: file.name, phase: 'failed', done: 0, total, error: message(err) } });
        }
      },
      cancelImport() {
        importCancelled = true;
        set({ importJob: null });
      },
      handleEvent(event) {
        switch (event.type) {
          case 'vm.state': {
            const old = get().vms[event.vm];
            if (old) putVm({ ...old, state: event.state, crash: event.crash ?? (event.state === 'crashed' ? old.crash : null) });
            else void get().refreshVm(event.vm);
            if (event.state === 'ready' || event.state === 'stopped' || event.state === 'crashed') void get().refreshVm(event.vm);
            return;
          }
          case 'vm.changed':
            void get().refreshVm(event.vm);
            return;
          case 'vm.removed': {
            const vms = { ...get().vms };
            delete vms[event.vm];
            set({ vms, vmNames: get().vmNames.filter((n) => n !== event.vm) });
            const view = get().view;
            if (view.kind === 'vm' && view.name === event.vm) set({ view: { kind: 'vms' } });
            return;
          }
          case 'base.changed':
            void get().refreshBases();
            return;
          case 'base.progress': {
            const job = get().importJob;
            if (job && job.phase === 'importing') set({ importJob: { ...job, done: event.done, total: event.total } });
            return;
          }
          case 'snapshot.progress':
            set({ snapshotJobs: { ...get().snapshotJobs, [event.vm]: { name: event.name, operation: event.operation, status: event.status, error: event.error } } });
            if (event.status !== 'running') void get().refreshSnapshots(event.vm);
            return;
          case 'prompt.opened':
            if (!get().prompts.some((p) => p.id === event.prompt.id)) set({ prompts: [...get().prompts, event.prompt] });
            return;
          case 'prompt.updated':
            set({ prompts: get().prompts.map((p) => (p.id === event.prompt.id ? event.prompt : p)) });
            return;
          case 'prompt.closed': {
            const closed = get().prompts.find((p) => p.id === event.id);
            set({ prompts: get().prompts.filter((p) => p.id !== event.id) });
            if (closed && event.reason === 'abandoned') set({ abandonedPrompts: [...get().abandonedPrompts, closed] });
            return;
          }
          case 'firewall.decision':
            appendLog(event.vm, { at: new Date().toISOString(), vm: event.vm, kind: 'decision', destination: event.destination, action: event.action, reason: event.reason });
            return;
          case 'firewall.connection':
            appendLog(event.entry.vm, event.entry);
            return;
          case 'firewall.status': {
            const old = get().vms[event.vm];
            if (old) putVm({ ...old, firewallActive: event.active });
            return;
          }
          case 'hook.started':
          case 'hook.finished':
            putHookRun(event.run);
            return;
          case 'hook.output': {
            const lines = [...(get().hookOutput[event.vm] ?? []), `${event.script}: ${event.text.trimEnd()}`].slice(-LOG_LIMIT);
            set({ hookOutput: { ...get().hookOutput, [event.vm]: lines } });
            return;
          }
          case 'log':
            return;
        }
      },
    };
  });
}

/** connectStore feeds the client's events into the store; returns the unsubscribe. */
export function connectStore(store: XrayStore, client: XrayClient): () => void {
  return client.subscribe((event) => store.getState().handleEvent(event));
}

// Runs in: renderer. The vms slice: every VM's summary, the full info of those
// opened, and what a user does to a VM. Each summary is its own object, so one
// VM's update changes only that key and only that row re-renders (rows select
// by name); an unchanged summary keeps its object.
import type { XrayEvent } from '../../src-main/shared/contract';
import type { VmStopResult, VmSummary } from '../../src-main/shared/models';
import { stopSentence } from '../../src-main/shared/vm';
import { byName, loadAll, loadEntry, message, putEntry } from './helpers';
import type { SliceContext, VmsSlice, XrayState } from './types';

type VmEvent = Extract<XrayEvent, { type: 'vm.state' | 'vm.changed' | 'vm.removed' | 'vm.diagnosis' | 'firewall.status' }>;

/** sameSummary tells whether two summaries show the same thing, so an unchanged row keeps its object. */
function sameSummary(a: VmSummary, b: VmSummary): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** putVm stores one summary; the name list changes only for a VM not seen before. */
function putVm({ set, get }: SliceContext, summary: VmSummary): void {
  const { vms, vmNames } = get();
  const old = vms[summary.name];
  if (old && sameSummary(old, summary)) return;
  set({
    vms: { ...vms, [summary.name]: summary },
    vmNames: old ? vmNames : [...vmNames, summary.name].sort(byName),
  });
}

/** stateEvents counts, per store and VM, the vm.state events applied (see putAnswer). */
const stateEvents = new WeakMap<SliceContext, Map<string, number>>();

function stateEventsOf(ctx: SliceContext): Map<string, number> {
  let counts = stateEvents.get(ctx);
  if (!counts) {
    counts = new Map();
    stateEvents.set(ctx, counts);
  }
  return counts;
}

/**
 * putAnswer stores a summary a call answered, asked for when `seen` state
 * events of the VM had been applied. A state event applied since is newer
 * than the answer's state (a vm.info sent at "ready" answering after the
 * "stopping" event), so the VM keeps the event's state and the rest is taken.
 */
function putAnswer(ctx: SliceContext, summary: VmSummary, seen: number): void {
  const old = ctx.get().vms[summary.name];
  const newer = old && (stateEventsOf(ctx).get(summary.name) ?? 0) !== seen;
  putVm(ctx, newer ? { ...summary, state: old.state, crash: old.crash } : summary);
}

/** setFor sets (or, with null, clears) one VM's entry in a per-VM record of words. */
function setFor<K extends 'actionErrors' | 'stopNotices' | 'stopRequests'>({ set, get }: SliceContext, key: K, name: string, value: XrayState[K][string] | null): void {
  const next = { ...get()[key] } as Record<string, XrayState[K][string]>;
  if (value === null) delete next[name];
  else next[name] = value;
  set({ [key]: next } as Partial<XrayState>);
}

/** forgetStop clears how a VM's last stop went, and what this window asked of it: the VM starts again. */
function forgetStop(ctx: SliceContext, name: string): void {
  setFor(ctx, 'stopNotices', name, null);
  setFor(ctx, 'stopRequests', name, null);
}

/** noteStop words how a VM's stop ended; a stop is forced when this window's latest stop request for it was a force stop. */
function noteStop(ctx: SliceContext, name: string, stoppedBy: VmStopResult['stoppedBy']): void {
  setFor(ctx, 'stopNotices', name, stopSentence(name, stoppedBy, ctx.get().stopRequests[name] === 'force'));
}

/**
 * vmsSlice builds the vms slice; a start or stop's failure stays beside the
 * VM it concerns (actionErrors), and so does how its last stop ended (stopNotices).
 */
export function vmsSlice(ctx: SliceContext): VmsSlice {
  const { client, set, get } = ctx;

  /** act runs a start or stop: its error shows in the VM's row and header until the next try. */
  const act = async (name: string, call: () => Promise<VmSummary>) => {
    setFor(ctx, 'actionErrors', name, null);
    const seen = stateEventsOf(ctx).get(name) ?? 0;
    try {
      putAnswer(ctx, await call(), seen);
    } catch (err) {
      setFor(ctx, 'actionErrors', name, message(err));
    }
  };

  return {
    vms: {},
    vmNames: [],
    vmsError: null,
    vmsLoaded: false,
    info: {},
    actionErrors: {},
    stopNotices: {},
    stopRequests: {},
    defaults: null,
    listening: {},
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
        const current = get().vmNames;
        const sameNames = names.length === current.length && names.every((n, i) => n === current[i]);
        // The benchmark measures from here to the list's first commit (VmList marks that).
        if (!get().vmsLoaded) performance.mark('xray:vms-loaded');
        set({ vms, vmNames: sameNames ? current : names, vmsError: null, vmsLoaded: true });
      } catch (err) {
        set({ vmsError: message(err), vmsLoaded: true });
      }
    },
    async refreshVm(name) {
      const seen = stateEventsOf(ctx).get(name) ?? 0;
      try {
        const info = await client.call('vm.info', { name });
        putAnswer(ctx, info.summary, seen);
        putEntry(ctx, 'info', name, { status: 'ready', value: info });
        putEntry(ctx, 'snapshots', name, { status: 'ready', value: info.snapshots });
      } catch (err) {
        putEntry(ctx, 'info', name, { status: 'error', message: message(err) });
      }
    },
    async loadDefaults() {
      // Asked once per window: they follow the host, which does not change while it runs; an error is asked again.
      if (get().defaults && get().defaults?.status !== 'error') return;
      set({ defaults: { status: 'loading' } });
      await loadAll(ctx, 'defaults', () => client.call('vm.defaults', {}));
    },
    startVm: (name) => {
      forgetStop(ctx, name);
      return act(name, () => client.call('vm.start', { name }));
    },
    async stopVm(name, force = false) {
      // A force stop stays on record until the next start: the gentle stop it cut short answers later, and is worded as forced too.
      if (get().stopRequests[name] !== 'force') setFor(ctx, 'stopRequests', name, force ? 'force' : 'stop');
      setFor(ctx, 'stopNotices', name, null);
      await act(name, async () => {
        const result = await client.call('vm.stop', force ? { name, force } : { name });
        noteStop(ctx, name, result.stoppedBy);
        return result;
      });
    },
    async createVm(params) {
      const summary = await client.call('vm.create', params);
      putVm(ctx, summary);
      return summary;
    },
    async updateVm(params) {
      putVm(ctx, await client.call('vm.update', params));
      await get().refreshVm(params.name);
    },
    async addPort(vm, mapping) {
      const change = await client.call('port.add', { vm, mapping });
      await get().refreshVm(vm);
      return change;
    },
    async removePort(vm, mapping) {
      await client.call('port.remove', { vm, mapping });
      await get().refreshVm(vm);
    },
    loadListening: (vm) => loadEntry(ctx, 'listening', vm, () => client.call('port.listening', { vm })),
  };
}

/** onVmEvent applies what happened to a VM: a state change and a boot diagnosis show at once, the rest follows from vm.info. */
export function onVmEvent(ctx: SliceContext, event: VmEvent): void {
  const { set, get } = ctx;
  switch (event.type) {
    case 'vm.state': {
      stateEventsOf(ctx).set(event.vm, (stateEventsOf(ctx).get(event.vm) ?? 0) + 1);
      const old = get().vms[event.vm];
      if (old) putVm(ctx, { ...old, state: event.state, crash: event.crash ?? (event.state === 'crashed' ? old.crash : null), diagnosis: null });
      else void get().refreshVm(event.vm);
      if (event.state === 'ready' || event.state === 'stopped' || event.state === 'crashed') void get().refreshVm(event.vm);
      // A stop from anywhere (this window, the CLI, the guest itself) says how it ended; a new start clears that.
      if (event.state === 'stopped' && event.stoppedBy) noteStop(ctx, event.vm, event.stoppedBy);
      if (event.state === 'starting') forgetStop(ctx, event.vm);
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
      if (view.kind === 'vm' && view.name === event.vm) get().show({ kind: 'vms' });
      return;
    }
    case 'vm.diagnosis': {
      const old = get().vms[event.vm];
      if (old) putVm(ctx, { ...old, diagnosis: event.diagnosis });
      else void get().refreshVm(event.vm);
      return;
    }
    case 'firewall.status': {
      const old = get().vms[event.vm];
      if (old) putVm(ctx, { ...old, firewallActive: event.active });
      return;
    }
  }
}

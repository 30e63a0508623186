// Runs in: renderer. The vms slice: every VM's summary, the full info of those
// opened, and what a user does to a VM. Each summary is its own object, so one
// VM's update changes only that key and only that row re-renders (rows select
// by name); an unchanged summary keeps its object.
import type { XrayEvent } from '../../src-main/shared/contract';
import type { VmSummary } from '../../src-main/shared/models';
import { byName, loadAll, loadEntry, message, putEntry } from './helpers';
import type { SliceContext, VmsSlice } from './types';

type VmEvent = Extract<XrayEvent, { type: 'vm.state' | 'vm.changed' | 'vm.removed' | 'firewall.status' }>;

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

function setActionError({ set, get }: SliceContext, name: string, error: string | null): void {
  const next = { ...get().actionErrors };
  if (error === null) delete next[name];
  else next[name] = error;
  set({ actionErrors: next });
}

/** vmsSlice builds the vms slice; a start or stop's failure stays beside the VM it concerns (actionErrors). */
export function vmsSlice(ctx: SliceContext): VmsSlice {
  const { client, set, get } = ctx;

  /** act runs a start or stop: its error shows in the VM's row and header until the next try. */
  const act = async (name: string, call: () => Promise<VmSummary>) => {
    setActionError(ctx, name, null);
    try {
      putVm(ctx, await call());
    } catch (err) {
      setActionError(ctx, name, message(err));
    }
  };

  return {
    vms: {},
    vmNames: [],
    vmsError: null,
    vmsLoaded: false,
    info: {},
    actionErrors: {},
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
      try {
        const info = await client.call('vm.info', { name });
        putVm(ctx, info.summary);
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
    startVm: (name) => act(name, () => client.call('vm.start', { name })),
    stopVm: (name) => act(name, () => client.call('vm.stop', { name })),
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

/** onVmEvent applies what happened to a VM: a state change shows at once, the rest follows from vm.info. */
export function onVmEvent(ctx: SliceContext, event: VmEvent): void {
  const { set, get } = ctx;
  switch (event.type) {
    case 'vm.state': {
      const old = get().vms[event.vm];
      if (old) putVm(ctx, { ...old, state: event.state, crash: event.crash ?? (event.state === 'crashed' ? old.crash : null) });
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
      if (view.kind === 'vm' && view.name === event.vm) get().show({ kind: 'vms' });
      return;
    }
    case 'firewall.status': {
      const old = get().vms[event.vm];
      if (old) putVm(ctx, { ...old, firewallActive: event.active });
      return;
    }
  }
}

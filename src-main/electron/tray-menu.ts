// Runs in: plain Node (pure; the Electron main process turns the specs into a Menu).
import type { VmStateName, VmSummary } from '../shared/models';
import { isVmActive } from './tray-state';

/** TrayAction is what clicking a tray menu item asks the main process to do. */
export type TrayAction =
  | { readonly kind: 'vm.start'; readonly vm: string }
  | { readonly kind: 'vm.stop'; readonly vm: string }
  | { readonly kind: 'copy-ssh'; readonly vm: string }
  | { readonly kind: 'snapshot.create'; readonly vm: string }
  | { readonly kind: 'snapshot.revert'; readonly vm: string; readonly snapshot: string }
  | { readonly kind: 'snapshot.delete'; readonly vm: string; readonly snapshot: string }
  | { readonly kind: 'open-main' }
  | { readonly kind: 'open-prompts' }
  | { readonly kind: 'open-settings' }
  | { readonly kind: 'quit' };

/** MenuItemSpec is a tray menu item as plain data, so the menu is testable without Electron. */
export type MenuItemSpec =
  | { readonly type: 'separator' }
  | { readonly type: 'item'; readonly label: string; readonly enabled: boolean; readonly action?: TrayAction }
  | { readonly type: 'submenu'; readonly label: string; readonly enabled: boolean; readonly submenu: readonly MenuItemSpec[] };

export interface TrayVm {
  readonly summary: VmSummary;
  /** snapshots are the VM's snapshot names, oldest first. */
  readonly snapshots: readonly string[];
}

export interface TrayMenuState {
  readonly vms: readonly TrayVm[];
  readonly pendingPrompts: number;
  /** attachedToDaemon is true when a separate `xray daemon` supervises the VMs. */
  readonly attachedToDaemon: boolean;
}

const STATE_LABELS: Readonly<Record<VmStateName, string>> = {
  stopped: 'stopped',
  starting: 'starting…',
  booting: 'booting…',
  ready: 'running',
  stopping: 'stopping…',
  crashed: 'crashed',
};

/** TRANSITIONAL states refuse new operations until they settle. */
const TRANSITIONAL: ReadonlySet<VmStateName> = new Set(['starting', 'stopping']);

function item(label: string, action: TrayAction | undefined, enabled = true): MenuItemSpec {
  return action ? { type: 'item', label, enabled, action } : { type: 'item', label, enabled };
}

function vmLabel(vm: VmSummary): string {
  if (vm.configError) return `${vm.name} — configuration error`;
  const prompts = vm.pendingPrompts > 0 ? ` (${vm.pendingPrompts} waiting)` : '';
  return `${vm.name} — ${STATE_LABELS[vm.state]}${prompts}`;
}

function snapshotMenu(vm: TrayVm): MenuItemSpec {
  const name = vm.summary.name;
  const busy = TRANSITIONAL.has(vm.summary.state);
  const entries: MenuItemSpec[] = [item('Take Snapshot', { kind: 'snapshot.create', vm: name }, !busy)];
  if (vm.snapshots.length > 0) entries.push({ type: 'separator' });
  for (const snapshot of vm.snapshots) {
    entries.push({
      type: 'submenu',
      label: snapshot,
      enabled: !busy,
      submenu: [
        item('Revert to This Snapshot…', { kind: 'snapshot.revert', vm: name, snapshot }),
        item('Delete Snapshot…', { kind: 'snapshot.delete', vm: name, snapshot }),
      ],
    });
  }
  return { type: 'submenu', label: 'Snapshots', enabled: vm.summary.configError === null, submenu: entries };
}

function vmMenu(vm: TrayVm): MenuItemSpec {
  const { summary } = vm;
  const name = summary.name;
  const usable = summary.configError === null;
  const canStart = usable && (summary.state === 'stopped' || summary.state === 'crashed');
  const canStop = isVmActive(summary) && summary.state !== 'stopping';
  return {
    type: 'submenu',
    label: vmLabel(summary),
    enabled: true,
    submenu: [
      item('Start', { kind: 'vm.start', vm: name }, canStart),
      item('Stop', { kind: 'vm.stop', vm: name }, canStop),
      item('Copy SSH Command', { kind: 'copy-ssh', vm: name }, usable),
      snapshotMenu(vm),
    ],
  };
}

/** buildTrayMenu lists the VMs with their status and actions, then the app's own items. */
export function buildTrayMenu(state: TrayMenuState): MenuItemSpec[] {
  const menu: MenuItemSpec[] = [];
  if (state.attachedToDaemon) menu.push(item('Attached to xray daemon', undefined, false));
  if (state.pendingPrompts > 0) {
    const n = state.pendingPrompts;
    menu.push(item(`${n} Connection Prompt${n === 1 ? '' : 's'} Waiting…`, { kind: 'open-prompts' }));
  }
  if (menu.length > 0) menu.push({ type: 'separator' });
  if (state.vms.length === 0) menu.push(item('No VMs yet', undefined, false));
  for (const vm of state.vms) menu.push(vmMenu(vm));
  menu.push(
    { type: 'separator' },
    item('Open Xray', { kind: 'open-main' }),
    item('Settings…', { kind: 'open-settings' }),
    { type: 'separator' },
    item('Quit Xray', { kind: 'quit' }),
  );
  return menu;
}

/** shellQuote leaves plain words alone and single-quotes anything a shell would split or expand. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** sshCommand is the line "Copy SSH Command" puts on the clipboard. */
export function sshCommand(keyPath: string, vm: Pick<VmSummary, 'sshPort' | 'sshUser'>): string {
  return ['ssh', '-i', shellQuote(keyPath), '-p', String(vm.sshPort), shellQuote(`${vm.sshUser}@127.0.0.1`)].join(' ');
}

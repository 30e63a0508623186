// Runs in: plain Node (pure; used by the Electron main process).
import type { VmStateName, VmSummary } from '../shared/models';

/** TrayIconState is what the menu-bar icon shows at a glance. */
export type TrayIconState = 'idle' | 'running' | 'prompt';

/** ACTIVE_STATES are the states in which a VM has a QEMU process. */
const ACTIVE_STATES: ReadonlySet<VmStateName> = new Set(['starting', 'booting', 'ready', 'stopping']);

export function isVmActive(vm: Pick<VmSummary, 'state'>): boolean {
  return ACTIVE_STATES.has(vm.state);
}

/** trayIconState gives a waiting prompt priority: it needs the user, a running VM does not. */
export function trayIconState(vms: readonly Pick<VmSummary, 'state'>[], pendingPrompts: number): TrayIconState {
  if (pendingPrompts > 0) return 'prompt';
  return vms.some(isVmActive) ? 'running' : 'idle';
}

/**
 * trayIconFile names the icon in assets/ for a state. macOS gets template
 * images (the name must end in "Template" so AppKit tints them for light and
 * dark menu bars; the @2x file is picked up beside it); Linux panels do not
 * tint, so they get light-grey icons that read on the usual dark panels.
 */
export function trayIconFile(state: TrayIconState, platform: NodeJS.Platform): string {
  const suffix = state === 'idle' ? '' : state === 'running' ? 'Running' : 'Prompt';
  if (platform === 'darwin') return `tray${suffix}Template.png`;
  return `tray${suffix}Linux.png`;
}

/** trayTooltip says the same as the icon, in words. */
export function trayTooltip(vms: readonly Pick<VmSummary, 'state'>[], pendingPrompts: number): string {
  const running = vms.filter(isVmActive).length;
  const parts = [running === 0 ? 'No VM running' : `${running} VM${running === 1 ? '' : 's'} running`];
  if (pendingPrompts > 0) parts.push(`${pendingPrompts} connection prompt${pendingPrompts === 1 ? '' : 's'} waiting`);
  return `Xray: ${parts.join(', ')}`;
}

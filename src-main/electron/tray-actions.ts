// Runs in: plain Node (pure; the Electron main process performs tray clicks with it).
import type { XrayApi } from '../shared/contract';
import { sshCommand, type TrayAction, type TrayVm } from './tray-menu';
import type { WindowKind } from './window-options';

/** Confirmation is a question asked before a tray click destroys data: what, the consequence, and the button's verb. */
export interface Confirmation {
  readonly message: string;
  readonly detail: string;
  readonly verb: string;
}

/** TrayActionDeps is what a tray click may touch; the main process passes Electron's clipboard, dialogs and windows. */
export interface TrayActionDeps {
  readonly api: XrayApi;
  /** vms is what the tray shows now. */
  readonly vms: readonly TrayVm[];
  /** sshKeyOf is the path of a VM's private key. */
  sshKeyOf(vm: string): string;
  /** confirm asks the question and resolves true when the user chose the verb. */
  confirm(question: Confirmation): Promise<boolean>;
  copy(text: string): void;
  showWindow(kind: WindowKind): void;
  quit(): void;
  /** now is the clock a tray snapshot is named by. */
  now(): Date;
}

/** performTrayAction does what a tray menu item asks; a failed call rejects, for the caller to show. */
export async function performTrayAction(action: TrayAction, deps: TrayActionDeps): Promise<void> {
  const api = deps.api;
  switch (action.kind) {
    case 'vm.start':
      await api.call('vm.start', { name: action.vm });
      return;
    case 'vm.stop':
      await api.call('vm.stop', { name: action.vm });
      return;
    case 'copy-ssh': {
      const vm = deps.vms.find((v) => v.summary.name === action.vm);
      if (vm) deps.copy(sshCommand(deps.sshKeyOf(action.vm), vm.summary));
      return;
    }
    case 'snapshot.create':
      await api.call('snapshot.create', { vm: action.vm, name: snapshotName(deps.now()) });
      return;
    case 'snapshot.revert':
      if (await deps.confirm({ message: `Revert "${action.vm}" to snapshot "${action.snapshot}"?`, detail: 'Changes made since the snapshot are lost.', verb: 'Revert' })) {
        await api.call('snapshot.revert', { vm: action.vm, name: action.snapshot });
      }
      return;
    case 'snapshot.delete':
      if (await deps.confirm({ message: `Delete snapshot "${action.snapshot}" of "${action.vm}"?`, detail: 'This cannot be undone.', verb: 'Delete' })) {
        await api.call('snapshot.delete', { vm: action.vm, name: action.snapshot });
      }
      return;
    case 'open-main':
      deps.showWindow('main');
      return;
    case 'open-prompts':
      deps.showWindow('prompt');
      return;
    case 'open-settings':
      deps.showWindow('settings');
      return;
    case 'quit':
      deps.quit();
      return;
  }
}

/** snapshotName names a snapshot taken from the tray by its time, e.g. snap-20250101-093000. */
export function snapshotName(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `snap-${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`;
}

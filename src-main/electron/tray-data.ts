// Runs in: plain Node (pure; the Electron main process refreshes the tray with it).
import type { XrayApi, XrayEvent } from '../shared/contract';
import type { VmSummary } from '../shared/models';
import type { TrayVm } from './tray-menu';
import { isVmActive } from './tray-state';

/** tray-data reads what the tray shows (VMs, their snapshots, waiting prompts) and says which events change it. */

/** REFRESH_DELAY_MS coalesces bursts of events (a start emits several) into one tray rebuild. */
export const REFRESH_DELAY_MS = 150;

/** REFRESH_EVENTS are the events that change what the tray shows. */
export const REFRESH_EVENTS: ReadonlySet<XrayEvent['type']> = new Set(['vm.state', 'vm.changed', 'vm.removed', 'snapshot.progress', 'prompt.opened', 'prompt.closed']);

/**
 * loadTrayVms reads every VM with its snapshot names; when the list cannot be
 * read the tray keeps showing `previous`, and a VM whose snapshots cannot be
 * read (or whose vm.toml is broken) shows none.
 */
export async function loadTrayVms(api: XrayApi, previous: readonly TrayVm[]): Promise<TrayVm[]> {
  let summaries: VmSummary[];
  try {
    summaries = await api.call('vm.list', {});
  } catch {
    summaries = previous.map((vm) => vm.summary);
  }
  return Promise.all(
    summaries.map(async (summary): Promise<TrayVm> => {
      if (summary.configError) return { summary, snapshots: [] };
      const snapshots = await api.call('snapshot.list', { vm: summary.name }).catch(() => []);
      return { summary, snapshots: snapshots.map((s) => s.name) };
    }),
  );
}

/** activeVmNames names the VMs that are running or on their way; when the list cannot be read, those the tray shows. */
export async function activeVmNames(api: XrayApi, shown: readonly TrayVm[]): Promise<string[]> {
  try {
    return (await api.call('vm.list', {})).filter(isVmActive).map((vm) => vm.name);
  } catch {
    return shown.map((vm) => vm.summary).filter(isVmActive).map((vm) => vm.name);
  }
}

/** PromptWindowMove is what a prompt event asks of the prompt window. */
export type PromptWindowMove = 'show' | 'close' | null;

/** PendingPrompts tracks the firewall prompts waiting for an answer, which decides when the prompt window opens and closes. */
export class PendingPrompts {
  private readonly ids = new Set<string>();

  get size(): number {
    return this.ids.size;
  }

  /**
   * reload replaces the set with the prompts the API lists; without a
   * firewall engine the call fails and the prompts seen in events are all
   * there is.
   */
  async reload(api: XrayApi): Promise<void> {
    let prompts;
    try {
      prompts = await api.call('prompt.list', {});
    } catch {
      return;
    }
    this.ids.clear();
    for (const prompt of prompts) this.ids.add(prompt.id);
  }

  /** apply notes a prompt event: a new prompt shows the window unless the main window has focus; the last answer closes it. */
  apply(event: XrayEvent, mainFocused: boolean): PromptWindowMove {
    if (event.type === 'prompt.opened') {
      this.ids.add(event.prompt.id);
      return mainFocused ? null : 'show';
    }
    if (event.type === 'prompt.closed') {
      this.ids.delete(event.id);
      return this.ids.size === 0 ? 'close' : null;
    }
    return null;
  }
}

// Runs in: plain Node (pure; the Electron main process asks the question this builds).
import type { MessageBoxOptions } from 'electron';

/** QuitChoice is the user's answer when quitting with VMs running. */
export type QuitChoice = 'stop-and-quit' | 'leave-running' | 'cancel';

const CHOICES: readonly QuitChoice[] = ['stop-and-quit', 'leave-running', 'cancel'];

/**
 * quitDialog is the question asked before quitting while VMs run, or null when
 * none run. Leaving them running is safe: each QEMU has its own process group
 * and the next Xray start adopts it.
 */
export function quitDialog(running: readonly string[]): MessageBoxOptions | null {
  if (running.length === 0) return null;
  const n = running.length;
  return {
    type: 'question',
    title: 'Quit Xray',
    message: `Stop ${n} running VM${n === 1 ? '' : 's'} and quit?`,
    detail: `${running.join(', ')} ${n === 1 ? 'is' : 'are'} running. VMs left running keep going without Xray and are picked up again when Xray starts.`,
    buttons: ['Stop & Quit', 'Leave Running & Quit', 'Cancel'],
    defaultId: 0,
    cancelId: CHOICES.indexOf('cancel'),
    noLink: true,
  };
}

/** quitChoice reads the dialog's answer; anything unexpected counts as Cancel. */
export function quitChoice(response: number): QuitChoice {
  return CHOICES[response] ?? 'cancel';
}

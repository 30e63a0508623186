// Runs in: plain Node (pure; the Electron main process holds its quits with it).
import type { MessageBoxOptions } from 'electron';
import { errorMessage } from '../shared/errors';
import { quitChoice, quitDialog } from './quit';

/** QuitGateDeps is what quitting touches; the main process passes Electron's dialogs and app, and the backend. */
export interface QuitGateDeps {
  /** runningVms names the VMs quitting concerns (none when a separate daemon owns them). */
  runningVms(): Promise<string[]>;
  /** ask shows the question and resolves with the index of the button chosen. */
  ask(question: MessageBoxOptions): Promise<number>;
  /** close ends the backend; `stopVms` also stops the VMs this app supervises. */
  close(stopVms: boolean): Promise<void>;
  showError(message: string): void;
  quit(): void;
}

/**
 * QuitGate holds every quit until the user has answered about running VMs
 * and the backend has closed; a quit asked for meanwhile waits for that
 * answer rather than asking again, and Cancel leaves the app running.
 */
export class QuitGate {
  private state: 'running' | 'asking' | 'closing' | 'done' = 'running';

  constructor(private readonly deps: QuitGateDeps) {}

  /** beforeQuit is called with each quit event; it lets only the final one through. */
  beforeQuit(event: { preventDefault(): void }): void {
    if (this.state === 'done') return;
    event.preventDefault();
    if (this.state === 'running') void this.confirm();
  }

  private async confirm(): Promise<void> {
    this.state = 'asking';
    let stopVms = false;
    const question = quitDialog(await this.deps.runningVms());
    if (question) {
      const choice = quitChoice(await this.deps.ask(question));
      if (choice === 'cancel') {
        this.state = 'running';
        return;
      }
      stopVms = choice === 'stop-and-quit';
    }
    this.state = 'closing';
    try {
      await this.deps.close(stopVms);
    } catch (err) {
      this.deps.showError(`Xray could not shut down cleanly: ${errorMessage(err)}`);
    }
    this.state = 'done';
    this.deps.quit();
  }
}

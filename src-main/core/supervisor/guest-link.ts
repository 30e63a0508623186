// Runs in: plain Node (core).
import type { XrayEvent } from '../../shared/contract';
import type { GuestListener } from '../../shared/live';
import type { SshSession } from '../ssh';
import { guestListeners } from './guest-listeners';
import type { VmMachine } from './machine';

/** Login waits for a VM's sshd and logs in, within `timeoutMs`. */
export type Login = (vm: string, opts: { timeoutMs: number; signal?: AbortSignal }) => Promise<SshSession>;

export interface GuestLinkDeps {
  readonly login: Login;
  readonly emit: (event: XrayEvent) => void;
  /** runStartHooks runs a VM's start hooks over the session Xray logged in with. */
  readonly runStartHooks: (vm: string, session: SshSession) => Promise<unknown>;
}

/** GUEST_WAIT_MS bounds how long a booting guest may take to answer on SSH. */
const GUEST_WAIT_MS = 15 * 60_000;
/** GUEST_LOGIN_MS bounds a login to a guest that is ready, and one command there. */
const GUEST_LOGIN_MS = 10_000;
/** POWEROFF_COMMAND shuts the guest down when it ignores the power button; -n fails rather than asking for a password. */
const POWEROFF_COMMAND = 'sudo -n poweroff';

/**
 * GuestLink is the supervisor's way into its guests over SSH: it waits for a
 * booting guest to let Xray log in (the VM is then ready and its start hooks
 * run), logs in for whoever needs a ready guest, asks a guest which ports
 * it listens on, and sends poweroff to a guest that ignored the power button.
 */
export class GuestLink {
  /** watches are the waits for guests' SSH, cancelled when the supervisor lets go. */
  private readonly watches = new Set<AbortController>();

  constructor(private readonly deps: GuestLinkDeps) {}

  /** login logs in to a ready guest. */
  login(vm: string): Promise<SshSession> {
    return this.deps.login(vm, { timeoutMs: GUEST_LOGIN_MS });
  }

  /**
   * watch waits, in the background, for the guest to let Xray log in; the VM
   * is then `ready` and its start hooks run over that session. Hooks never
   * stop the VM: a failure is reported and the VM stays up.
   */
  watch(machine: VmMachine, opts: { runHooks: boolean }): void {
    const abort = new AbortController();
    this.watches.add(abort);
    void machine.whenExited().then(() => abort.abort());
    const name = machine.name;
    void (async () => {
      let session: SshSession | null = null;
      try {
        session = await this.deps.login(name, { timeoutMs: GUEST_WAIT_MS, signal: abort.signal });
        if (machine.guestAnswered() && opts.runHooks) await this.deps.runStartHooks(name, session);
      } catch (err) {
        if (!abort.signal.aborted && !machine.isDetached) {
          this.deps.emit({ type: 'log', level: 'error', source: 'ssh', message: `VM "${name}": ${(err as Error).message}` });
        }
      } finally {
        session?.close();
        this.watches.delete(abort);
      }
    })();
  }

  /** poweroff asks the guest to power off over SSH, calling `sent` as the command goes; true when the guest took it. */
  async poweroff(vm: string, sent: () => void): Promise<boolean> {
    const session = await this.login(vm);
    try {
      const running = session.exec(POWEROFF_COMMAND, { timeoutMs: GUEST_LOGIN_MS });
      sent();
      const { code } = await running;
      // A guest going down may end the session before the exit status arrives.
      return code === 0 || code === null;
    } finally {
      session.close();
    }
  }

  /** listening asks a ready guest which TCP ports it listens on. */
  async listening(vm: string): Promise<GuestListener[]> {
    const session = await this.login(vm);
    try {
      return await guestListeners(vm, session);
    } finally {
      session.close();
    }
  }

  /** cancel stops every wait for a guest (the supervisor lets go). */
  cancel(): void {
    for (const watch of this.watches) watch.abort();
  }
}

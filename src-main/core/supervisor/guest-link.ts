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
/** IDLE_SESSION_MS is how long a session kept for quick questions (listening ports) stays open after its last use. */
const IDLE_SESSION_MS = 60_000;
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
  /** kept are sessions kept open between quick questions, so a view that asks every few seconds logs in once. */
  private readonly kept = new Map<string, { readonly session: Promise<SshSession>; timer?: NodeJS.Timeout }>();

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

  /** listening asks a ready guest which TCP ports it listens on, over a kept session. */
  async listening(vm: string): Promise<GuestListener[]> {
    const session = await this.keptSession(vm);
    try {
      return await guestListeners(vm, session);
    } catch (err) {
      this.forget(vm);
      throw err;
    }
  }

  /** forget closes the session kept for a VM (it stopped, or nobody asked for a while). */
  forget(vm: string): void {
    const entry = this.kept.get(vm);
    if (!entry) return;
    this.kept.delete(vm);
    clearTimeout(entry.timer);
    void entry.session.then((session) => session.close(), () => undefined);
  }

  /** cancel stops every wait for a guest and closes kept sessions (the supervisor lets go). */
  cancel(): void {
    for (const watch of this.watches) watch.abort();
    for (const vm of [...this.kept.keys()]) this.forget(vm);
  }

  /**
   * keptSession is a session to the VM that stays open until IDLE_SESSION_MS
   * after its last use; callers at the same time share one login, and a
   * session that closed meanwhile (the guest rebooted) is replaced.
   */
  private async keptSession(vm: string): Promise<SshSession> {
    let entry = this.kept.get(vm);
    if (!entry) {
      entry = { session: this.login(vm) };
      this.kept.set(vm, entry);
    }
    const mine = entry;
    const session = await mine.session.catch((err: unknown) => {
      if (this.kept.get(vm) === mine) this.kept.delete(vm);
      throw err;
    });
    if (!session.isOpen) {
      this.forget(vm);
      return this.login(vm).then((fresh) => this.keep(vm, fresh));
    }
    clearTimeout(mine.timer);
    mine.timer = setTimeout(() => this.forget(vm), IDLE_SESSION_MS);
    mine.timer.unref();
    return session;
  }

  /** keep makes a fresh session the VM's kept one. */
  private keep(vm: string, session: SshSession): SshSession {
    this.forget(vm);
    const timer = setTimeout(() => this.forget(vm), IDLE_SESSION_MS);
    timer.unref();
    this.kept.set(vm, { session: Promise.resolve(session), timer });
    return session;
  }
}

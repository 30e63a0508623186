// Runs in: plain Node (core).
import type { XrayEvent } from '../../shared/contract';
import { XrayError } from '../../shared/errors';
import type { GuestListener } from '../../shared/live';
import type { SshSession } from '../ssh';
import type { BootChecks } from './boot-check';
import { guestListeners } from './guest-listeners';
import type { VmMachine } from './machine';

/** Login waits for a VM's sshd and logs in, within `timeoutMs`, telling `onRefused` whenever sshd refuses the key. */
export type Login = (vm: string, opts: { timeoutMs: number; retryMs?: number; signal?: AbortSignal; onRefused?: () => void }) => Promise<SshSession>;

export interface GuestLinkDeps extends BootChecks {
  readonly login: Login;
  readonly emit: (event: XrayEvent) => void;
  /** runStartHooks runs a VM's start hooks over the session Xray logged in with. */
  readonly runStartHooks: (vm: string, session: SshSession) => Promise<unknown>;
}

/**
 * KEY_REFUSED_MS is how long a guest's sshd may refuse Xray's key before that
 * is the diagnosis, boot_timeout or not: cloud-init installs the key before
 * sshd starts, so a refusal that lasts is not going away.
 */
const KEY_REFUSED_MS = 60_000;
/** RECHECK_MS is how often a diagnosed guest is looked at again while Xray keeps trying to log in. */
const RECHECK_MS = 60_000;
/** PATIENT_RETRY_MS spaces the logins to a guest once it was diagnosed, and the rounds after a login failed at once. */
const PATIENT_RETRY_MS = 5_000;
/** GUEST_LOGIN_MS bounds a login to a guest that is ready, and one command there. */
const GUEST_LOGIN_MS = 10_000;
/** IDLE_SESSION_MS is how long a session kept for quick questions (listening ports) stays open after its last use. */
const IDLE_SESSION_MS = 60_000;
/** POWEROFF_COMMAND shuts the guest down when it ignores the power button; -n fails rather than asking for a password. */
const POWEROFF_COMMAND = 'sudo -n poweroff';

/**
 * GuestLink is the supervisor's way into its guests over SSH: it waits for a
 * booting guest to let Xray log in (the VM is then ready and its start hooks
 * run), says why one has not within its boot_timeout (and keeps trying),
 * logs in for whoever needs a ready guest, asks a guest which ports it
 * listens on, and sends poweroff to a guest that ignored the power button.
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
   * stop the VM: a failure is reported and the VM stays up. `consoleFrom` is
   * where this boot's output begins in the console log (null: not known).
   */
  watch(machine: VmMachine, opts: { runHooks: boolean; consoleFrom: number | null }): void {
    const abort = new AbortController();
    this.watches.add(abort);
    void machine.whenExited().then(() => abort.abort());
    const name = machine.name;
    void (async () => {
      let session: SshSession | null = null;
      try {
        session = await this.waitForGuest(machine, opts.consoleFrom, abort.signal);
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

  /**
   * waitForGuest logs in once the guest lets Xray in. A guest that has not
   * within its boot_timeout (or whose sshd has refused the key for a minute)
   * is diagnosed, and looked at again every minute while the logins go on at
   * a gentler pace, until it answers or QEMU is gone.
   */
  private async waitForGuest(machine: VmMachine, consoleFrom: number | null, signal: AbortSignal): Promise<SshSession> {
    const name = machine.name;
    const budgetMs = await this.deps.bootTimeoutMs(machine.accel);
    let firstRefusal: number | null = null;
    for (let round = 0; ; round++) {
      const started = Date.now();
      const roundMs = round === 0 ? budgetMs : RECHECK_MS;
      let refused = false;
      let loginError: string | null = null;
      const early = new AbortController();
      const cancel = (): void => early.abort();
      signal.addEventListener('abort', cancel);
      try {
        return await this.deps.login(name, {
          timeoutMs: roundMs,
          retryMs: round === 0 ? undefined : PATIENT_RETRY_MS,
          signal: early.signal,
          onRefused: () => {
            refused = true;
            firstRefusal ??= Date.now();
            if (round === 0 && Date.now() - firstRefusal >= KEY_REFUSED_MS) early.abort();
          },
        });
      } catch (err) {
        if (signal.aborted) throw err;
        // A wait that ended before its time, and not on a refused key, failed for good (a changed host key).
        const ranOut = err instanceof XrayError && (err.code === 'timeout' || err.code === 'cancelled' || refused);
        if (!ranOut) loginError = (err as Error).message;
      } finally {
        signal.removeEventListener('abort', cancel);
      }
      const diagnosis = await this.deps.diagnose(name, { keyRefused: refused, loginError, consoleFrom, budgetSeconds: budgetMs / 1000 });
      if (machine.diagnose(diagnosis)) this.deps.emit({ type: 'vm.diagnosis', vm: name, diagnosis });
      const rest = PATIENT_RETRY_MS - (Date.now() - started);
      if (rest > 0) await pause(rest, signal);
      if (signal.aborted) throw new XrayError('cancelled', `Waiting for SSH on VM "${name}" was cancelled.`);
    }
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

/** pause waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

// Runs in: plain Node (core).
import type { StopMethod } from '../../shared/models';

export type GuestPoweroff = (sent: () => void) => Promise<boolean>;

/** StopSteps are the ways to end one QEMU, in the order a stop tries them. */
export interface StopSteps {
  /** powerButton presses the guest's ACPI power button (QMP system_powerdown). */
  powerButton(): Promise<void>;
  /**
   * guestPoweroff asks the guest to power off over SSH, calling `sent` once
   * the command is on its way, and resolves true when the guest took it;
   * null when Xray cannot log in (the VM is not ready).
   */
  readonly guestPoweroff: GuestPoweroff | null;
  /** quit makes QEMU exit at once (QMP quit): the guest gets no say. */
  quit(): Promise<void>;
  /** kill sends SIGKILL to QEMU's process group. */
  kill(): void;
  /** exited resolves once QEMU is gone. */
  readonly exited: Promise<unknown>;
}

/** StopTimings bound each stage: how long QEMU gets to exit after each step. */
export interface StopTimings {
  readonly powerButtonMs: number;
  /** sshMs covers logging in, sending poweroff and the guest's shutdown after it. */
  readonly sshMs: number;
  readonly quitMs: number;
  readonly killMs: number;
}

export const DEFAULT_STOP_TIMINGS: Omit<StopTimings, 'powerButtonMs'> = { sshMs: 30_000, quitMs: 5_000, killMs: 5_000 };

/**
 * stopInStages ends a QEMU as gently as it will go and says how it went: the
 * power button, then (when the guest ignored it and Xray can log in)
 * `poweroff` over SSH, then QMP quit, then SIGKILL. `force` kills at once. A
 * guest that went down during the SSH stage before the command was sent was
 * answering the power button late, and is reported so. Throws when QEMU
 * outlives SIGKILL.
 */
export async function stopInStages(steps: StopSteps, timings: StopTimings, force: boolean): Promise<StopMethod> {
  const exitWithin = (ms: number): Promise<boolean> => firstOf(steps.exited.then(() => true), ms, false);
  if (!force) {
    await steps.powerButton().catch(() => undefined);
    if (await exitWithin(timings.powerButtonMs)) return 'power-button';
    if (steps.guestPoweroff) {
      const started = Date.now();
      let sent = false;
      const took = await firstOf(
        Promise.race([steps.guestPoweroff(() => (sent = true)).catch(() => false), steps.exited.then(() => 'exited' as const)]),
        timings.sshMs,
        false,
      );
      if (took === 'exited') return sent ? 'ssh' : 'power-button';
      if (took && (await exitWithin(Math.max(0, timings.sshMs - (Date.now() - started))))) return 'ssh';
    }
    // QMP may already be gone because QEMU is exiting: the wait decides.
    await steps.quit().catch(() => undefined);
    if (await exitWithin(timings.quitMs)) return 'kill';
  }
  steps.kill();
  if (!(await exitWithin(timings.killMs))) throw new Error('QEMU did not exit after SIGKILL');
  return 'kill';
}

/** firstOf resolves with `task`'s value, or `fallback` once `ms` have passed. */
function firstOf<T, F>(task: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([task, timeout]).finally(() => clearTimeout(timer));
}

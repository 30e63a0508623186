// Runs in: plain Node (core).
import type { Accelerator, BootDiagnosis, CrashReport, StopMethod, VmStateName } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { isActive } from '../../shared/vm';
import type { VmPaths } from '../paths';
import type { QmpChannel } from '../qmp';
import { tailOf } from '../vms/logs';
import { removeRuntimeFiles } from '../vms/runtime';
import type { QemuExit, QemuProcess } from './qemu-process';
import { canMove } from './states';
import { stopInStages, type GuestPoweroff, type StopTimings } from './stop';

const TAIL_LINES = 20;

/** MachineChange is one state change, with what the supervisor reports along with it. */
export interface MachineChange {
  readonly state: VmStateName;
  readonly previous: VmStateName;
  readonly crash?: CrashReport;
  readonly stoppedBy?: StopMethod;
}

export interface StopRequest {
  readonly force: boolean;
  readonly timings: StopTimings;
  /** guestPoweroff asks the guest over SSH (StopSteps); null when Xray cannot log in. */
  readonly guestPoweroff: GuestPoweroff | null;
}

/**
 * VmMachine is one VM's life under this supervisor: its state, moved only by
 * transition() along VM_TRANSITIONS, and while it runs, its QEMU process.
 * Each operation names the states it allows. It tells a stop it asked for
 * (stopped) from an exit nobody asked for (crashed), and how a stop ended.
 */
export class VmMachine {
  private current: VmStateName = 'stopped';
  private process: QemuProcess | null = null;
  private crashReport: CrashReport | null = null;
  private bootDiagnosis: BootDiagnosis | null = null;
  private stopRequested = false;
  /** forced is set when a force stop cut short a gentle one: the stop then ended by a kill, whatever its stages say. */
  private forced = false;
  private guestShutdown = false;
  /** stages is how the stages of a stop ended, settled as soon as QEMU is gone. */
  private stages: Promise<StopMethod> | null = null;
  /** stopping is the whole stop, settled once the runtime files are gone too. */
  private stopping: Promise<StopMethod> | null = null;
  private detached = false;
  private exitedNow: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly paths: VmPaths,
    private readonly changed: (change: MachineChange) => void,
    /** gone runs once QEMU has exited, before the new state is announced (the console's last lines go out first). */
    private readonly gone: () => Promise<void> = async () => undefined,
  ) {}

  get state(): VmStateName {
    return this.current;
  }

  get pid(): number | null {
    return this.process?.pid ?? null;
  }

  get accel(): Accelerator | null {
    return this.process?.accel ?? null;
  }

  /** crash is why the VM last crashed, kept until it starts again. */
  get crash(): CrashReport | null {
    return this.crashReport;
  }

  /** diagnosis is why the booting guest has not let Xray log in, once its boot_timeout passed; gone when the state changes. */
  get diagnosis(): BootDiagnosis | null {
    return this.bootDiagnosis;
  }

  /** diagnose records why a booting guest has not answered; true when that is news (another problem or sentence). */
  diagnose(diagnosis: BootDiagnosis): boolean {
    if (this.current !== 'booting' || this.detached) return false;
    const old = this.bootDiagnosis;
    if (old?.problem === diagnosis.problem && old.message === diagnosis.message) return false;
    this.bootDiagnosis = diagnosis;
    return true;
  }

  /** qmp is the running QEMU's monitor. */
  get qmp(): QmpChannel {
    if (!this.process) throw new XrayError('invalid-argument', `VM "${this.name}" is not running.`);
    return this.process.qmp;
  }

  /** isDetached is true once the supervisor let go of this VM (it keeps running). */
  get isDetached(): boolean {
    return this.detached;
  }

  /** whenExited resolves once the current QEMU is gone and its runtime files are removed. */
  whenExited(): Promise<void> {
    return this.exitedNow;
  }

  /**
   * launch starts QEMU from stopped or crashed: the VM is starting while
   * `spawn` runs, and back to stopped if it fails.
   */
  async launch(spawn: () => Promise<QemuProcess>): Promise<void> {
    this.allow('start', ['stopped', 'crashed']);
    this.crashReport = null;
    this.transition('starting');
    let process: QemuProcess;
    try {
      process = await spawn();
    } catch (err) {
      this.transition('stopped');
      throw err;
    }
    this.attach(process);
  }

  /** booted marks a launched QEMU as running its guest (starting → booting). */
  booted(): void {
    this.allow('boot', ['starting']);
    this.transition('booting');
  }

  /** adopt takes on a QEMU an earlier supervisor started (stopped → booting). */
  adopt(process: QemuProcess): void {
    this.allow('be adopted', ['stopped']);
    this.attach(process);
    this.transition('booting');
  }

  /** guestAnswered makes a booting VM ready once Xray logged in; false when it is no longer booting. */
  guestAnswered(): boolean {
    if (this.current !== 'booting' || this.detached) return false;
    this.transition('ready');
    return true;
  }

  /**
   * stop ends the running QEMU in stages (stopInStages) and resolves with how
   * it ended once its runtime files are gone. A second stop while one runs
   * waits for the first.
   */
  stop(request: StopRequest): Promise<StopMethod> {
    if (this.stopping) return this.stopping;
    const process = this.process;
    if (!process || !isActive(this.current)) {
      return Promise.reject(new XrayError('invalid-argument', `VM "${this.name}" is ${this.current}, so there is nothing to stop.`));
    }
    this.stopRequested = true;
    this.transition('stopping');
    const steps = {
      powerButton: () => process.qmp.execute('system_powerdown').then(() => undefined),
      guestPoweroff: request.guestPoweroff,
      quit: () => process.qmp.execute('quit').then(() => undefined),
      kill: () => process.kill(),
      exited: process.exited,
    };
    this.stages = stopInStages(steps, request.timings, request.force);
    this.stopping = this.stages.then(
      async (method) => {
        await this.exitedNow;
        return this.forced ? 'kill' : method;
      },
      (): never => {
        this.stopping = null;
        throw new XrayError('qemu', `QEMU (pid ${process.pid}) for VM "${this.name}" did not exit after SIGKILL.`);
      },
    );
    return this.stopping;
  }

  /**
   * forceStop kills QEMU at once: a running VM is stopped with `force`, and a
   * VM already stopping gently (its guest still has the power button or SSH
   * to answer) is cut short, so a stop nobody wants to wait for ends now.
   * Both the gentle stop and this one resolve with `kill`.
   */
  forceStop(request: StopRequest): Promise<StopMethod> {
    if (!this.stopping || !this.process) return this.stop({ ...request, force: true });
    this.forced = true;
    this.process.kill();
    return this.stopping;
  }

  /** detach lets go of a running QEMU: QMP closes and nothing more is reported. */
  async detach(): Promise<void> {
    this.detached = true;
    await this.process?.release();
  }

  private attach(process: QemuProcess): void {
    this.process = process;
    this.stopRequested = false;
    this.forced = false;
    this.guestShutdown = false;
    this.stages = null;
    this.stopping = null;
    process.qmp.onEvent((event) => {
      if (event.event === 'SHUTDOWN') this.guestShutdown = true;
    });
    this.exitedNow = process.exited.then((exit) => this.onExit(exit));
  }

  private async onExit(exit: QemuExit): Promise<void> {
    if (this.detached) return;
    await this.process?.qmp.close().catch(() => undefined);
    const expected = this.stopRequested || this.guestShutdown;
    if (!expected) {
      this.crashReport = {
        at: new Date().toISOString(),
        exitCode: exit.code,
        signal: exit.signal,
        consoleTail: await tailOf(this.paths.consoleLog, TAIL_LINES),
        stderrTail: await tailOf(this.paths.qemuLog, TAIL_LINES),
      };
    }
    await this.gone().catch(() => undefined);
    await removeRuntimeFiles(this.paths);
    this.process = null;
    if (!expected) this.transition('crashed', { crash: this.crashReport ?? undefined });
    else {
      const staged = this.stages ? await this.stages.catch(() => 'kill' as const) : 'guest';
      this.transition('stopped', { stoppedBy: this.forced ? 'kill' : staged });
    }
  }

  /** allow refuses an operation the VM's state does not allow, as an error in Xray. */
  private allow(operation: string, states: readonly VmStateName[]): void {
    if (!states.includes(this.current)) throw new XrayError('internal', `VM "${this.name}" is ${this.current}, so it cannot ${operation}.`);
  }

  /** transition is the one way the state changes; a move VM_TRANSITIONS does not list is refused. */
  private transition(next: VmStateName, details: Omit<MachineChange, 'state' | 'previous'> = {}): void {
    if (!canMove(this.current, next)) {
      throw new XrayError('internal', `VM "${this.name}" cannot go from ${this.current} to ${next}.`);
    }
    const previous = this.current;
    this.current = next;
    this.bootDiagnosis = null;
    this.changed({ state: next, previous, ...details });
  }
}

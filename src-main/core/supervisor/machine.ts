// Runs in: plain Node (core).
import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import type { Accelerator, CrashReport, VmStateName } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import type { VmPaths } from '../paths';
import { QmpClient, type QmpEvent } from '../qmp';
import { tailOf } from '../vms/logs';
import { isProcessAlive, removeRuntimeFiles } from '../vms/runtime';

const QMP_APPEAR_TIMEOUT_MS = 15_000;
const QUIT_WAIT_MS = 5_000;
const KILL_WAIT_MS = 5_000;
const TAIL_LINES = 20;

export interface MachineEvents {
  state(next: VmStateName, previous: VmStateName, crash?: CrashReport): void;
  qmpEvent?(event: QmpEvent): void;
}

export interface LaunchRequest {
  readonly binary: string;
  readonly argv: readonly string[];
  readonly accel: Accelerator;
}

/**
 * VmMachine is one QEMU process: spawned by us or adopted after a restart. It
 * owns the QMP connection, tracks the process until it exits, and reports
 * whether that exit was asked for (stopped) or not (crashed).
 */
export class VmMachine {
  private current: VmStateName = 'starting';
  private stopRequested = false;
  private guestShutdown = false;
  private exited: Promise<void>;
  private markExited!: () => void;
  private crashReport: CrashReport | null = null;
  private detached = false;

  private constructor(
    readonly name: string,
    readonly paths: VmPaths,
    readonly pid: number,
    readonly accel: Accelerator | null,
    private qmpClient: QmpClient,
    private readonly events: MachineEvents,
    private readonly child: ChildProcess | null,
  ) {
    this.exited = new Promise((resolve) => {
      this.markExited = resolve;
    });
    qmpClient.onEvent((event) => {
      if (event.event === 'SHUTDOWN') this.guestShutdown = true;
      events.qmpEvent?.(event);
    });
    if (child) {
      child.once('exit', (code, signal) => void this.onExit(code, signal));
    } else {
      void qmpClient.closed.then(() => this.watchAdoptedExit());
    }
  }

  get state(): VmStateName {
    return this.current;
  }

  get qmp(): QmpClient {
    return this.qmpClient;
  }

  get crash(): CrashReport | null {
    return this.crashReport;
  }

  /** whenExited resolves once QEMU is gone and runtime files are cleaned. */
  whenExited(): Promise<void> {
    return this.exited;
  }

  /** isDetached is true once the supervisor let go of this VM (it keeps running). */
  get isDetached(): boolean {
    return this.detached;
  }

  /**
   * detach closes QMP and stops reporting, leaving QEMU running for the next
   * supervisor to adopt.
   */
  async detach(): Promise<void> {
    this.detached = true;
    await this.qmpClient.close().catch(() => undefined);
  }

  setState(next: VmStateName): void {
    if (next === this.current || this.detached) return;
    const previous = this.current;
    this.current = next;
    this.events.state(next, previous, next === 'crashed' ? (this.crashReport ?? undefined) : undefined);
  }

  /**
   * launch spawns QEMU in its own process group (so an app crash or Ctrl-C in
   * the CLI does not take the VM down) and connects QMP.
   */
  static async launch(name: string, paths: VmPaths, request: LaunchRequest, events: MachineEvents): Promise<VmMachine> {
    const stderrLog = await open(paths.qemuLog, 'w', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(request.binary, [...request.argv], {
        detached: true,
        stdio: ['ignore', 'ignore', stderrLog.fd],
      });
    } finally {
      await stderrLog.close();
    }
    child.unref();
    const spawnError = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new XrayError('qemu', `QEMU could not be started (${err.message}); check that ${request.binary} exists and runs.`)));
    });
    const earlyExit = new Promise<never>((_, reject) => {
      child.once('exit', async () => {
        reject(new XrayError('qemu', `QEMU exited while starting VM "${name}": ${(await tailOf(paths.qemuLog, 3)).join(' ') || 'no message'}.`));
      });
    });
    let qmp: QmpClient;
    try {
      qmp = await Promise.race([connectWhenReady(paths.qmpSocket), spawnError, earlyExit]);
    } catch (err) {
      if (child.pid && child.exitCode === null) killGroup(child.pid, 'SIGKILL');
      await removeRuntimeFiles(paths);
      throw err;
    }
    if (!child.pid) throw new XrayError('qemu', `QEMU for VM "${name}" has no pid.`);
    return new VmMachine(name, paths, child.pid, request.accel, qmp, events, child);
  }

  /** adopt picks up a QEMU left running by an earlier supervisor. */
  static async adopt(name: string, paths: VmPaths, pid: number, events: MachineEvents): Promise<VmMachine> {
    const qmp = await QmpClient.connect(paths.qmpSocket, { timeoutMs: 5000 });
    const machine = new VmMachine(name, paths, pid, null, qmp, events, null);
    return machine;
  }

  /**
   * stop powers the guest off: ACPI power button, a bounded wait, then QMP
   * quit, then SIGKILL of QEMU's process group. `force` goes straight to the kill.
   */
  async stop(opts: { force?: boolean; timeoutMs: number }): Promise<void> {
    this.stopRequested = true;
    if (this.current !== 'stopped' && this.current !== 'crashed') this.setState('stopping');
    if (!opts.force) {
      if (await this.tryStep(() => this.qmpClient.execute('system_powerdown'), opts.timeoutMs)) return;
      if (await this.tryStep(() => this.qmpClient.execute('quit'), QUIT_WAIT_MS)) return;
    }
    killGroup(this.pid, 'SIGKILL');
    if (!(await this.waitExit(KILL_WAIT_MS))) {
      throw new XrayError('qemu', `QEMU (pid ${this.pid}) for VM "${this.name}" did not exit after SIGKILL.`);
    }
  }

  /** tryStep sends one stop command and waits for the exit; false if QEMU is still there. */
  private async tryStep(command: () => Promise<unknown>, waitMs: number): Promise<boolean> {
    try {
      await command();
    } catch {
      // QMP may already be gone because QEMU is exiting: the wait decides.
    }
    return this.waitExit(waitMs);
  }

  private async waitExit(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const done = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return done;
  }

  private async watchAdoptedExit(): Promise<void> {
    if (this.detached) return;
    const deadline = Date.now() + 10_000;
    while (isProcessAlive(this.pid) && Date.now() < deadline) await sleep(100);
    if (isProcessAlive(this.pid)) killGroup(this.pid, 'SIGKILL');
    await this.onExit(null, null);
  }

  private async onExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.detached) return;
    await this.qmpClient.close().catch(() => undefined);
    const expected = this.stopRequested || this.guestShutdown;
    if (!expected) {
      this.crashReport = {
        at: new Date().toISOString(),
        exitCode: code,
        signal,
        consoleTail: await tailOf(this.paths.consoleLog, TAIL_LINES),
        stderrTail: await tailOf(this.paths.qemuLog, TAIL_LINES),
      };
    }
    await removeRuntimeFiles(this.paths);
    this.setState(expected ? 'stopped' : 'crashed');
    this.markExited();
  }
}

/** connectWhenReady waits for QEMU to create and listen on its QMP socket, then connects. */
function connectWhenReady(socketPath: string): Promise<QmpClient> {
  return QmpClient.connectWhenReady(socketPath, { timeoutMs: QMP_APPEAR_TIMEOUT_MS, retryIntervalMs: 20 });
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

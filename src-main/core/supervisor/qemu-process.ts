// Runs in: plain Node (core).
import type { ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import type { Accelerator } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import type { VmPaths } from '../paths';
import { QmpClient, type QmpChannel } from '../qmp';
import { tailOf } from '../vms/logs';
import { isProcessAlive, removeRuntimeFiles } from '../vms/runtime';
import { childProcess } from '../builtins';

const QMP_APPEAR_TIMEOUT_MS = 15_000;
const ADOPT_QMP_TIMEOUT_MS = 5_000;
/** ADOPTED_EXIT_MS is how long an adopted QEMU may linger after its QMP socket closed before it is killed. */
const ADOPTED_EXIT_MS = 10_000;
const ADOPTED_POLL_MS = 100;

export interface LaunchRequest {
  readonly binary: string;
  readonly argv: readonly string[];
  readonly accel: Accelerator;
}

/** QemuExit is how QEMU ended: its exit code or signal when it was our child, nulls when adopted. */
export interface QemuExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * QemuProcess is one running QEMU as the supervisor sees it: its pid, its
 * monitor and its end. VmMachine drives it; tests hand it fakes.
 */
export interface QemuProcess {
  readonly pid: number;
  /** accel is the accelerator QEMU was started with; null when adopted (an earlier supervisor chose it). */
  readonly accel: Accelerator | null;
  readonly qmp: QmpChannel;
  /** exited resolves once QEMU is gone. */
  readonly exited: Promise<QemuExit>;
  /** kill sends SIGKILL to QEMU's process group. */
  kill(): void;
  /** release closes QMP and stops watching, leaving QEMU running for the next supervisor. */
  release(): Promise<void>;
}

/** QemuProcesses starts or adopts QEMU processes; the supervisor's one way to get them. */
export interface QemuProcesses {
  launch(name: string, paths: VmPaths, request: LaunchRequest): Promise<QemuProcess>;
  adopt(name: string, paths: VmPaths, pid: number): Promise<QemuProcess>;
}

/** realQemu spawns and adopts real QEMU processes. */
export const realQemu: QemuProcesses = { launch: launchQemu, adopt: adoptQemu };

/**
 * launchQemu spawns QEMU in its own process group (so an app crash or Ctrl-C
 * in the CLI does not take the VM down), stderr to qemu.log, and connects QMP.
 */
async function launchQemu(name: string, paths: VmPaths, request: LaunchRequest): Promise<QemuProcess> {
  const stderrLog = await open(paths.qemuLog, 'w', 0o600);
  let child: ChildProcess;
  try {
    child = childProcess().spawn(request.binary, [...request.argv], { detached: true, stdio: ['ignore', 'ignore', stderrLog.fd] });
  } finally {
    await stderrLog.close();
  }
  child.unref();
  const exited = new Promise<QemuExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new XrayError('qemu', `QEMU could not be started (${err.message}); check that ${request.binary} exists and runs.`)));
  });
  const earlyExit = exited.then(async (): Promise<never> => {
    throw new XrayError('qemu', `QEMU exited while starting VM "${name}": ${(await tailOf(paths.qemuLog, 3)).join(' ') || 'no message'}.`);
  });
  let qmp: QmpClient;
  try {
    qmp = await Promise.race([QmpClient.connectWhenReady(paths.qmpSocket, { timeoutMs: QMP_APPEAR_TIMEOUT_MS, retryIntervalMs: 20 }), spawnError, earlyExit]);
  } catch (err) {
    if (child.pid && child.exitCode === null) killGroup(child.pid, 'SIGKILL');
    await removeRuntimeFiles(paths);
    throw err;
  }
  earlyExit.catch(() => undefined);
  const pid = child.pid;
  if (!pid) throw new XrayError('qemu', `QEMU for VM "${name}" has no pid.`);
  return {
    pid,
    accel: request.accel,
    qmp,
    exited,
    kill: () => killGroup(pid, 'SIGKILL'),
    release: () => qmp.close().catch(() => undefined),
  };
}

/**
 * adoptQemu picks up a QEMU left running by an earlier supervisor. It is not
 * our child, so its end is seen as its QMP socket closing; one still alive
 * ADOPTED_EXIT_MS after that is killed.
 */
async function adoptQemu(_name: string, paths: VmPaths, pid: number): Promise<QemuProcess> {
  const qmp = await QmpClient.connect(paths.qmpSocket, { timeoutMs: ADOPT_QMP_TIMEOUT_MS });
  let released = false;
  const exited = qmp.closed.then(async () => {
    if (released) return new Promise<QemuExit>(() => undefined);
    const deadline = Date.now() + ADOPTED_EXIT_MS;
    while (isProcessAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, ADOPTED_POLL_MS));
    if (isProcessAlive(pid)) killGroup(pid, 'SIGKILL');
    return { code: null, signal: null };
  });
  return {
    pid,
    accel: null,
    qmp,
    exited,
    kill: () => killGroup(pid, 'SIGKILL'),
    release: async () => {
      released = true;
      await qmp.close().catch(() => undefined);
    },
  };
}

/** killGroup signals QEMU's process group, or the process alone when it has none. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
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

// Fakes of what the supervisor drives: QEMU's process and monitor, and the
// guest behind SSH. Each behaves as the real one does for the supervisor's
// purposes, in memory and without timers of its own, so tests may fake time.
import type { QmpChannel, QmpEvent } from '../../../src-main/core/qmp';
import type { SshSession } from '../../../src-main/core/ssh';
import type { LaunchRequest, QemuExit, QemuProcess, QemuProcesses } from '../../../src-main/core/supervisor/qemu-process';
import type { VmPaths } from '../../../src-main/core/paths';
import type { Login } from '../../../src-main/core/supervisor/guest-link';
import type { QemuOnHost } from '../../../src-main/core/supervisor/launcher';
import { XrayError } from '../../../src-main/shared/errors';
import type { Accelerator } from '../../../src-main/shared/models';

/** GuestBehaviour is how a fake guest answers a stop: the real firmware-only guest answers neither. */
export interface GuestBehaviour {
  answersPowerButton: boolean;
  /** sudo says what `sudo -n poweroff` over SSH does: power off, or fail (no password-less sudo). */
  sudo: 'powers-off' | 'refuses';
  /** quitExits is false for a QEMU wedged so badly that only SIGKILL ends it. */
  quitExits: boolean;
}

interface Snapshot {
  readonly name: string;
  readonly vmStateSize: number;
}

/** FakeMonitor is a QEMU monitor over one VM's disks: commands are recorded, snapshots kept. */
export class FakeMonitor implements QmpChannel {
  readonly commands: string[] = [];
  readonly closed: Promise<Error | null>;
  private readonly listeners = new Set<(event: QmpEvent) => void>();
  private markClosed!: (err: Error | null) => void;
  private readonly seenWaiters = new Map<string, Array<() => void>>();

  constructor(
    private readonly process: FakeQemuProcess,
    private readonly snapshots: Snapshot[],
  ) {
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
  }

  /** seen resolves once `command` has been sent (at once if it was). */
  seen(command: string): Promise<void> {
    if (this.commands.includes(command)) return Promise.resolve();
    return new Promise((resolve) => this.seenWaiters.set(command, [...(this.seenWaiters.get(command) ?? []), resolve]));
  }

  async execute<T = unknown>(command: string, args: Record<string, unknown> = {}): Promise<T> {
    this.commands.push(command);
    for (const resolve of this.seenWaiters.get(command) ?? []) resolve();
    this.seenWaiters.delete(command);
    return this.answer(command, args) as T;
  }

  onEvent(listener: (event: QmpEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  waitForEvent(name: string, predicate: (event: QmpEvent) => boolean = () => true): Promise<QmpEvent> {
    return new Promise((resolve) => {
      const stop = this.onEvent((event) => {
        if (event.event !== name || !predicate(event)) return;
        stop();
        resolve(event);
      });
    });
  }

  async close(): Promise<void> {
    this.markClosed(null);
  }

  emit(event: string, data: Record<string, unknown> = {}): void {
    for (const listener of [...this.listeners]) listener({ event, data, timestamp: { seconds: 0, microseconds: 0 } });
  }

  private answer(command: string, args: Record<string, unknown>): unknown {
    switch (command) {
      case 'system_powerdown':
        if (this.process.guest.answersPowerButton) this.process.shutDown('guest-shutdown');
        return {};
      case 'quit':
        if (this.process.guest.quitExits) this.process.shutDown('host-qmp-quit');
        return {};
      case 'query-block':
        return this.blockDevices();
      case 'snapshot-save':
        this.snapshots.push({ name: String(args.tag), vmStateSize: 4096 });
        return this.concludeJob(String(args['job-id']));
      case 'snapshot-load':
        return this.concludeJob(String(args['job-id']));
      case 'snapshot-delete': {
        const at = this.snapshots.findIndex((s) => s.name === args.tag);
        if (at >= 0) this.snapshots.splice(at, 1);
        return this.concludeJob(String(args['job-id']));
      }
      case 'query-jobs':
        return [];
      default:
        return {};
    }
  }

  /** concludeJob announces a snapshot job's end after its command's reply, as QEMU may. */
  private concludeJob(id: string): unknown {
    queueMicrotask(() => this.emit('JOB_STATUS_CHANGE', { id, status: 'concluded' }));
    return {};
  }

  private blockDevices(): unknown {
    const image = {
      snapshots: this.snapshots.map((s, i) => ({
        id: String(i + 1),
        name: s.name,
        'date-sec': 1_700_000_000 + i,
        'date-nsec': 0,
        'vm-state-size': s.vmStateSize,
        'vm-clock-sec': 0,
        'vm-clock-nsec': 0,
      })),
    };
    return [
      { device: 'disk0', qdev: 'disk', inserted: { 'node-name': 'disk', drv: 'qcow2', ro: false, file: 'disk.qcow2', image } },
      { device: 'pflash1', qdev: '', inserted: { 'node-name': 'efivars', drv: 'qcow2', ro: false, file: 'efivars.qcow2', image } },
    ];
  }
}

let nextPid = 40_000;

/** FakeQemuProcess is one QEMU: it exits when its guest shuts down, on quit, or when killed. */
export class FakeQemuProcess implements QemuProcess {
  readonly qmp: FakeMonitor;
  readonly exited: Promise<QemuExit>;
  killed = false;
  released = false;
  private markExited!: (exit: QemuExit) => void;
  private gone = false;

  constructor(
    readonly name: string,
    readonly guest: GuestBehaviour,
    snapshots: Snapshot[],
    readonly pid = nextPid++,
    readonly accel: Accelerator | null = 'tcg',
    readonly request: LaunchRequest | null = null,
  ) {
    this.qmp = new FakeMonitor(this, snapshots);
    this.exited = new Promise((resolve) => {
      this.markExited = resolve;
    });
  }

  get running(): boolean {
    return !this.gone;
  }

  /** shutDown is QEMU ending after a SHUTDOWN event, as when the guest powers off or on quit. */
  shutDown(reason: string): void {
    this.qmp.emit('SHUTDOWN', { guest: reason === 'guest-shutdown', reason });
    this.exit({ code: 0, signal: null });
  }

  /** exit ends QEMU without a word, as a crash does. */
  exit(exit: QemuExit): void {
    if (this.gone) return;
    this.gone = true;
    this.markExited(exit);
  }

  kill(): void {
    this.killed = true;
    this.exit({ code: null, signal: 'SIGKILL' });
  }

  async release(): Promise<void> {
    this.released = true;
    await this.qmp.close();
  }
}

/** FakeQemu launches and adopts fake QEMUs; each VM's snapshots outlive its processes, as its disk does. */
export class FakeQemu implements QemuProcesses {
  readonly processes: FakeQemuProcess[] = [];
  guest: GuestBehaviour = { answersPowerButton: true, sudo: 'powers-off', quitExits: true };
  /** failLaunch makes the next launch fail with this error. */
  failLaunch: Error | null = null;
  /** launchGate holds launches until it resolves, as a QEMU slow to open its QMP socket does. */
  launchGate: Promise<void> = Promise.resolve();
  private readonly disks = new Map<string, Snapshot[]>();

  async launch(name: string, _paths: VmPaths, request: LaunchRequest): Promise<QemuProcess> {
    await this.launchGate;
    if (this.failLaunch) {
      const err = this.failLaunch;
      this.failLaunch = null;
      throw err;
    }
    return this.track(new FakeQemuProcess(name, { ...this.guest }, this.disk(name), undefined, request.accel, request));
  }

  async adopt(name: string, _paths: VmPaths, pid: number): Promise<QemuProcess> {
    return this.track(new FakeQemuProcess(name, { ...this.guest }, this.disk(name), pid, null));
  }

  /** latest is the newest QEMU of a VM. */
  latest(name: string): FakeQemuProcess {
    const found = this.processes.filter((p) => p.name === name).at(-1);
    if (!found) throw new Error(`no QEMU was launched for ${name}`);
    return found;
  }

  disk(name: string): Snapshot[] {
    let snapshots = this.disks.get(name);
    if (!snapshots) {
      snapshots = [];
      this.disks.set(name, snapshots);
    }
    return snapshots;
  }

  private track(process: FakeQemuProcess): FakeQemuProcess {
    this.processes.push(process);
    return process;
  }
}

/**
 * FakeGuests answers logins: a booting guest's login waits until the test
 * lets it in (or the wait is cancelled); a ready guest's runs commands, and
 * `sudo -n poweroff` does what the guest's sudo does.
 */
export class FakeGuests {
  readonly commands: string[] = [];
  readonly logins: string[] = [];
  private readonly open = new Set<string>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly qemu: FakeQemu) {}

  /** letIn makes the VM's sshd answer: waiting logins succeed, and later ones at once. */
  letIn(vm: string): void {
    this.open.add(vm);
    for (const resolve of this.waiting.get(vm) ?? []) resolve();
    this.waiting.delete(vm);
  }

  readonly login: Login = (vm, opts) => {
    this.logins.push(vm);
    if (this.open.has(vm)) return Promise.resolve(this.session(vm));
    return new Promise((resolve, reject) => {
      this.waiting.set(vm, [...(this.waiting.get(vm) ?? []), () => resolve(this.session(vm))]);
      opts.signal?.addEventListener('abort', () => reject(new XrayError('cancelled', `Waiting for SSH on VM "${vm}" was cancelled.`)));
    });
  };

  private session(vm: string): SshSession {
    const session = {
      exec: async (command: string) => {
        this.commands.push(command);
        const process = this.qemu.latest(vm);
        if (command !== 'sudo -n poweroff') return { code: 0, signal: null };
        if (process.guest.sudo === 'refuses') return { code: 1, signal: null };
        queueMicrotask(() => process.shutDown('guest-shutdown'));
        return { code: null, signal: null };
      },
      close: () => undefined,
    };
    return session as unknown as SshSession;
  }
}

/** fakeQemuOnHost stands in for probing the host's QEMU: a launcher prepares a command line it never runs. */
export async function fakeQemuOnHost(): Promise<QemuOnHost> {
  return {
    platform: 'linux',
    binary: '/usr/bin/qemu-system-x86_64',
    firmwareCode: '/usr/share/OVMF/OVMF_CODE.fd',
    netcat: '/usr/bin/nc',
    accel: 'tcg',
    qemuVersion: { major: 8, minor: 2, micro: 0 },
    warning: null,
  };
}

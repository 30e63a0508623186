// Runs in: plain Node (core).
import { readFile, rm, stat } from 'node:fs/promises';
import type { ParsedParams, Results } from '../../shared/contract';
import type { SnapshotInfo, VmStateName, VmSummary } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { isPortFree } from '../host';
import { migrateLegacyEfiVars } from '../images';
import { validateName } from '../names';
import { DISK_DRIVE_ID } from '../qemu';
import { cont, deleteSnapshot, listBlockNodes, loadSnapshot, querySnapshots, saveSnapshot, snapshotNodes, type InternalSnapshot } from '../qmp';
import type { Engine, XrayService } from '../service';
import type { VmConfig } from '../store/vm-config';
import { readLivePid, removeRuntimeFiles } from '../vms/runtime';
import { availableMemoryMb, portHolder } from './host-checks';
import { isQemuFor } from './identity';
import { FirewallHost } from './firewalls';
import { prepareSocketDir } from '../socket-dir';
import { Launcher } from './launcher';
import { VmMachine } from './machine';
import { hostnameForVm, writeNoCloudSeed } from '../guest/cloud-init';
import { connectVm, type SshSession } from '../ssh';

export interface SupervisorOptions {
  /**
   * waitForGuest resolves with an SSH session once the guest lets Xray log in;
   * the VM is `ready` then and its hooks run over that session. For testing.
   */
  readonly waitForGuest?: (vm: string, signal: AbortSignal) => Promise<SshSession>;
  readonly launcher?: Launcher;
}

/** GUEST_WAIT_MS bounds how long a booting guest may take to answer on SSH. */
const GUEST_WAIT_MS = 15 * 60_000;

type LiveHandlers = Engine['live'];

/**
 * Supervisor runs VMs for one XRAY_HOME: it starts, adopts, watches and stops
 * QEMU processes and takes live snapshots. Operations on one VM are queued so
 * two clients acting at once get consistent answers and never two QEMUs.
 */
export class Supervisor implements Engine {
  private readonly machines = new Map<string, VmMachine>();
  private readonly queues = new Map<string, Promise<unknown>>();
  /** guestFirewall holds the VMs whose in-guest redirection a boot hook verified this run. */
  private readonly guestFirewall = new Set<string>();
  /** crashes keeps why a VM last crashed until it is started again. */
  private readonly crashes = new Map<string, NonNullable<VmSummary['crash']>>();
  private readonly launcher: Launcher;
  private readonly waitForGuest: (vm: string, signal: AbortSignal) => Promise<SshSession>;
  /** guestWatches are the waits for guests' SSH (watchGuest), cancelled when the supervisor lets go. */
  private readonly guestWatches = new Set<AbortController>();
  readonly handlers: Engine['handlers'];
  readonly live: LiveHandlers;
  readonly firewalls: FirewallHost;
  private clientCount: () => number = () => 0;

  constructor(
    private readonly service: XrayService,
    options: SupervisorOptions = {},
  ) {
    this.launcher = options.launcher ?? new Launcher(service.paths, service.settings);
    this.waitForGuest =
      options.waitForGuest ??
      (async (vm, signal) => connectVm(service.paths, vm, await service.sshTarget(vm), { timeoutMs: GUEST_WAIT_MS, signal }));
    this.firewalls = new FirewallHost(service, () => this.clientCount(), (vm) => this.machines.get(vm)?.state === 'ready');
    this.handlers = {
      'vm.start': (p) => this.start(p),
      'vm.stop': (p) => this.stop(p),
      ...this.firewalls.handlers,
    };
    this.live = {
      'snapshot.list': ({ vm }) => this.liveList(vm),
      'snapshot.create': ({ vm, name, description }) => this.exclusive(vm, () => this.liveCreate(vm, name, description)),
      'snapshot.revert': ({ vm, name }) => this.exclusive(vm, () => this.liveRevert(vm, name)),
      'snapshot.delete': ({ vm, name }) => this.exclusive(vm, () => this.liveDelete(vm, name)),
    };
  }

  /**
   * setGuestFirewall records whether the guest routes all TCP through the
   * firewall (checked by the built-in boot hook); only then is it "active".
   */
  setGuestFirewall(vm: string, active: boolean): void {
    if (active) this.guestFirewall.add(vm);
    else this.guestFirewall.delete(vm);
    this.service.emit({ type: 'firewall.status', vm, active });
  }

  liveFirewall(vm: string): ReturnType<FirewallHost['liveFirewall']> {
    return this.firewalls.liveFirewall(vm);
  }

  /** setClientCount tells the prompt broker how many UIs are attached (the host knows). */
  setClientCount(count: () => number): void {
    this.clientCount = count;
  }

  isRunning(vm: string): boolean {
    const state = this.machines.get(vm)?.state;
    return state !== undefined && state !== 'stopped' && state !== 'crashed';
  }

  /** running lists the VMs this supervisor has a QEMU for. */
  get running(): string[] {
    return [...this.machines.keys()];
  }

  decorate(summary: VmSummary): VmSummary {
    const machine = this.machines.get(summary.name);
    const counts = this.firewalls.counts(summary.name);
    if (!machine) {
      const crash = this.crashes.get(summary.name);
      if (crash) return { ...summary, state: 'crashed', pid: null, crash };
      return summary.state === 'ready' ? { ...summary, state: 'stopped', pid: null } : summary;
    }
    return {
      ...summary,
      ...counts,
      state: machine.state,
      pid: machine.pid,
      accelerator: machine.accel,
      crash: machine.crash,
      firewallActive: this.guestFirewall.has(summary.name),
    };
  }

  /**
   * adoptRunning picks up VMs whose QEMU outlived an earlier supervisor, after
   * checking the pid really is that VM's QEMU, and clears stale runtime files.
   */
  async adoptRunning(): Promise<string[]> {
    const adopted: string[] = [];
    for (const entry of await this.service.catalog.store.list()) {
      const vm = this.service.paths.vm(entry.name);
      const pid = await readLivePid(vm);
      if (pid === null || !(await isQemuFor(pid, vm.qmpSocket))) {
        if (!this.machines.has(entry.name)) await removeRuntimeFiles(vm);
        continue;
      }
      try {
        const machine = await VmMachine.adopt(entry.name, vm, pid, this.machineEvents(entry.name));
        this.machines.set(entry.name, machine);
        await this.firewalls.startVm(entry.name, { allowAll: false });
        machine.setState('booting');
        this.watchGuest(machine, { runHooks: false });
        adopted.push(entry.name);
      } catch (err) {
        this.service.emit({ type: 'log', level: 'warn', source: 'supervisor', message: `VM "${entry.name}" (pid ${pid}) is running but its QMP socket does not answer: ${(err as Error).message}` });
      }
    }
    return adopted;
  }

  /** stopAll stops every running VM (the app's Quit, after the user agreed). */
  async stopAll(force = false): Promise<void> {
    await Promise.all(this.running.map((name) => this.stop({ name, force }).catch(() => undefined)));
  }

  /** detach closes QMP connections and leaves VMs running (the app or daemon exits). */
  async detach(): Promise<void> {
    for (const watch of this.guestWatches) watch.abort();
    await Promise.all([...this.machines.values()].map(async (m) => {
      await m.detach();
      await this.firewalls.stopVm(m.name);
    }));
    this.machines.clear();
    this.firewalls.close();
  }

  private exclusive<T>(name: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(name) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.then(() => undefined, () => undefined);
    this.queues.set(name, settled);
    void settled.then(() => {
      if (this.queues.get(name) === settled) this.queues.delete(name);
    });
    return next;
  }

  private machineEvents(name: string) {
    return {
      state: (state: VmStateName, previous: VmStateName, crash?: VmSummary['crash']) => {
        if (state === 'stopped' || state === 'crashed') {
          this.machines.delete(name);
          this.guestFirewall.delete(name);
          void this.firewalls.stopVm(name);
        }
        if (state === 'crashed' && crash) this.crashes.set(name, crash);
        this.service.emit({ type: 'vm.state', vm: name, state, previous, ...(crash ? { crash } : {}) });
      },
    };
  }

  private start(params: ParsedParams<'vm.start'>): Promise<Results['vm.start']> {
    const name = validateName('VM', params.name);
    return this.exclusive(name, async () => {
      const existing = this.machines.get(name);
      if (existing) return this.summary(name);
      const config = await this.service.catalog.store.read(name);
      const vm = this.service.paths.vm(name);
      if (await readLivePid(vm)) {
        throw new XrayError('in-use', `VM "${name}" is already running under another Xray process.`);
      }
      await this.checkResources(name, config);
      this.crashes.delete(name);
      const base = (await this.service.bases.list()).find((b) => b.name === config.base);
      if (!base) {
        throw new XrayError('not-found', `VM "${name}" is built on base "${config.base}", which is missing; re-import it with "xray base import PATH --name ${config.base}".`);
      }
      if (params.fromSnapshot) validateName('snapshot', params.fromSnapshot);
      await this.ensureEfiVars(name);
      await removeRuntimeFiles(vm);
      const seedDir = config.cloudInit ? await this.writeSeed(name, config) : undefined;
      const prepared = await this.launcher.prepare(name, config, base.arch, {
        display: params.display ?? 'none',
        startPaused: Boolean(params.fromSnapshot),
        cloudInitSeedDir: seedDir,
      });
      if (prepared.warning) this.service.emit({ type: 'log', level: 'warn', source: 'qemu', message: prepared.warning });
      this.service.emit({ type: 'vm.state', vm: name, state: 'starting', previous: 'stopped' });
      let machine: VmMachine;
      try {
        await this.firewalls.startVm(name, { allowAll: Boolean(params.allowAll) });
        await prepareSocketDir(vm.qmpSocket);
        machine = await VmMachine.launch(name, vm, prepared.request, this.machineEvents(name));
      } catch (err) {
        await this.firewalls.stopVm(name);
        this.service.emit({ type: 'vm.state', vm: name, state: 'stopped', previous: 'starting' });
        throw err;
      }
      this.machines.set(name, machine);
      if (params.fromSnapshot) {
        try {
          await this.resumeFrom(machine, params.fromSnapshot);
        } catch (err) {
          await machine.stop({ force: true, timeoutMs: 0 });
          throw err;
        }
      }
      machine.setState('booting');
      this.watchGuest(machine, { runHooks: !params.noHooks });
      return this.summary(name);
    });
  }

  private async resumeFrom(machine: VmMachine, tag: string): Promise<void> {
    const nodes = await listBlockNodes(machine.qmp);
    const disk = nodes.find((n) => n.device === DISK_DRIVE_ID);
    const snap = disk?.snapshots.find((s) => s.name === tag);
    if (!snap) throw new XrayError('not-found', `VM "${machine.name}" has no snapshot "${tag}"; see "xray snapshot list ${machine.name}".`);
    if (snap.vmStateSize === 0) throw new XrayError('invalid-argument', `Snapshot "${tag}" holds no memory, so the VM cannot resume from it; revert to it instead.`);
    await loadSnapshot(machine.qmp, { jobId: `load-${Date.now()}`, tag, ...snapshotNodes(nodes, DISK_DRIVE_ID) });
    await cont(machine.qmp);
  }

  private async ensureEfiVars(name: string): Promise<void> {
    const vm = this.service.paths.vm(name);
    const has = async (path: string) => stat(path).then(() => true, () => false);
    if (!(await has(vm.efiVars)) && (await has(vm.legacyEfiVars))) {
      await migrateLegacyEfiVars(vm.legacyEfiVars, vm.efiVars, this.service.qemuImg);
    }
    if (!(await has(vm.efiVars))) {
      throw new XrayError('not-found', `VM "${name}" has no UEFI variable store (${vm.efiVars}); recreate the VM.`);
    }
  }

  private async checkResources(name: string, config: VmConfig): Promise<void> {
    const available = await availableMemoryMb();
    if (config.memoryMb > available) {
      throw new XrayError('resource', `VM "${name}" needs ${config.memoryMb} MB but only ${available} MB of memory is free; stop other VMs or lower its memory.`);
    }
    for (const port of [config.sshPort, ...config.ports.map((p) => p.host)]) {
      if (!(await isPortFree(port))) {
        const holder = await portHolder(port);
        throw new XrayError('in-use', `Port ${port} on 127.0.0.1, which VM "${name}" forwards, is busy${holder ? ` (held by ${holder})` : ''}; free it or change the VM's ports.`);
      }
    }
  }

  /** writeSeed gives a cloud-init guest its user, key and host name (NoCloud). */
  private async writeSeed(name: string, config: VmConfig): Promise<string> {
    const vm = this.service.paths.vm(name);
    const target = await this.service.sshTarget(name);
    const publicKey = (await readFile(`${target.keyPath}.pub`, 'utf8')).trim();
    await rm(vm.cloudInitSeed, { recursive: true, force: true });
    await writeNoCloudSeed(vm.cloudInitSeed, {
      instanceId: `xray-${name}`,
      hostname: hostnameForVm(name),
      user: config.sshUser,
      authorizedKeys: [publicKey],
    });
    return vm.cloudInitSeed;
  }

  /**
   * watchGuest waits, in the background, for the guest to let Xray log in over
   * SSH; the VM is then `ready` and its start hooks run over that session.
   * Hooks never stop the VM: a failure is reported and the VM stays up.
   */
  private watchGuest(machine: VmMachine, opts: { runHooks: boolean }): void {
    const abort = new AbortController();
    this.guestWatches.add(abort);
    void machine.whenExited().then(() => abort.abort());
    const name = machine.name;
    void (async () => {
      let session: SshSession | null = null;
      try {
        session = await this.waitForGuest(name, abort.signal);
        if (machine.state !== 'booting' || machine.isDetached) return;
        machine.setState('ready');
        if (opts.runHooks) await this.service.hooks.runLifecycle(name, 'start', await this.service.sshTarget(name), session);
      } catch (err) {
        if (!abort.signal.aborted && !machine.isDetached) {
          this.service.emit({ type: 'log', level: 'error', source: 'ssh', message: `VM "${name}": ${(err as Error).message}` });
        }
      } finally {
        session?.close();
        this.guestWatches.delete(abort);
      }
    })();
  }

  private stop(params: ParsedParams<'vm.stop'>): Promise<Results['vm.stop']> {
    const name = validateName('VM', params.name);
    return this.exclusive(name, async () => {
      const machine = this.machines.get(name);
      if (!machine) {
        await this.service.catalog.store.read(name);
        return this.summary(name);
      }
      const settings = await this.service.settings.read();
      await machine.stop({ force: params.force, timeoutMs: settings.stopTimeoutSeconds * 1000 });
      await machine.whenExited();
      return this.summary(name);
    });
  }

  private async summary(name: string): Promise<VmSummary> {
    return this.decorate(await this.service.catalog.summary(name));
  }

  private running_(vm: string): VmMachine {
    const machine = this.machines.get(validateName('VM', vm));
    if (!machine) throw new XrayError('invalid-argument', `VM "${vm}" is not running.`);
    return machine;
  }

  private async liveList(vm: string): Promise<SnapshotInfo[]> {
    const machine = this.running_(vm);
    const config = await this.service.catalog.store.read(vm);
    const found = await querySnapshots(machine.qmp, DISK_DRIVE_ID);
    return found
      .slice()
      .sort((a, b) => a.date.getTime() - b.date.getTime())
      .map((s) => toSnapshotInfo(s, config.snapshots[s.name]?.description ?? null));
  }

  private async withProgress<T>(vm: string, name: string, operation: 'create' | 'revert' | 'delete', task: () => Promise<T>): Promise<T> {
    this.service.emit({ type: 'snapshot.progress', vm, name, operation, status: 'running' });
    try {
      const result = await task();
      this.service.emit({ type: 'snapshot.progress', vm, name, operation, status: 'done' });
      return result;
    } catch (err) {
      this.service.emit({ type: 'snapshot.progress', vm, name, operation, status: 'failed', error: (err as Error).message });
      throw err;
    }
  }

  private async liveCreate(vm: string, name: string, description?: string): Promise<SnapshotInfo> {
    validateName('snapshot', name);
    const machine = this.running_(vm);
    // One query-block serves both the duplicate check and the choice of nodes.
    const blockNodes = await listBlockNodes(machine.qmp);
    if (blockNodes.find((n) => n.device === DISK_DRIVE_ID)?.snapshots.some((s) => s.name === name)) {
      throw new XrayError('already-exists', `VM "${vm}" already has a snapshot "${name}"; choose another name or delete it first.`);
    }
    await this.withProgress(vm, name, 'create', () =>
      saveSnapshot(machine.qmp, { jobId: `save-${Date.now()}`, tag: name, ...snapshotNodes(blockNodes, DISK_DRIVE_ID) }),
    );
    if (description) {
      await this.service.catalog.store.update(vm, (cfg) => {
        cfg.snapshots = { ...cfg.snapshots, [name]: { description } };
      });
    }
    const created = (await querySnapshots(machine.qmp, DISK_DRIVE_ID)).find((s) => s.name === name);
    if (!created) throw new XrayError('internal', `Snapshot "${name}" of VM "${vm}" was not found after it was taken.`);
    return toSnapshotInfo(created, description ?? null);
  }

  private async requireSnapshot(vm: string, name: string): Promise<void> {
    validateName('snapshot', name);
    if (!(await this.liveList(vm)).some((s) => s.name === name)) {
      throw new XrayError('not-found', `VM "${vm}" has no snapshot "${name}"; see "xray snapshot list ${vm}".`);
    }
  }

  private async liveRevert(vm: string, name: string): Promise<null> {
    await this.requireSnapshot(vm, name);
    const machine = this.running_(vm);
    await this.withProgress(vm, name, 'revert', async () => {
      const nodes = snapshotNodes(await listBlockNodes(machine.qmp), DISK_DRIVE_ID);
      await loadSnapshot(machine.qmp, { jobId: `load-${Date.now()}`, tag: name, ...nodes });
    });
    return null;
  }

  private async liveDelete(vm: string, name: string): Promise<null> {
    await this.requireSnapshot(vm, name);
    const machine = this.running_(vm);
    await this.withProgress(vm, name, 'delete', async () => {
      const nodes = snapshotNodes(await listBlockNodes(machine.qmp), DISK_DRIVE_ID);
      await deleteSnapshot(machine.qmp, { jobId: `delete-${Date.now()}`, tag: name, devices: nodes.devices });
    });
    await this.service.catalog.store.update(vm, (cfg) => {
      const { [name]: _dropped, ...rest } = cfg.snapshots;
      cfg.snapshots = rest;
    });
    return null;
  }
}

function toSnapshotInfo(s: InternalSnapshot, description: string | null): SnapshotInfo {
  return { name: s.name, date: s.date.toISOString(), vmStateSize: s.vmStateSize, hasMemory: s.vmStateSize > 0, description };
}

// Runs in: plain Node (core).
import type { ParsedParams, Results } from '../../shared/contract';
import type { VmSummary } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { isActive } from '../../shared/vm';
import type { Engine, LiveForwards } from '../engine';
import { validateName } from '../names';
import type { QmpChannel } from '../qmp';
import { makeConsolePipe } from '../qemu';
import { prepareSocketDir } from '../socket-dir';
import { connectVm } from '../ssh';
import { adoptRunning } from './adopt';
import { bootChecks } from './boot-check';
import { Consoles } from './consoles';
import { FirewallHost, startModeProblem } from './firewalls';
import { GuestLink } from './guest-link';
import { isQemuFor } from './identity';
import { Launcher } from './launcher';
import { liveForwards } from './live-forwards';
import { LiveSnapshots, liveSnapshotHandlers } from './live-snapshots';
import { VmMachine, type MachineChange, type StopRequest } from './machine';
import { realQemu, type QemuProcesses } from './qemu-process';
import { KeyedQueue } from './queue';
import { runningSummary } from './running-summary';
import { planStart } from './start-plan';
import type { SupervisorDeps, SupervisorOptions } from './supervisor-deps';
import { DEFAULT_STOP_TIMINGS, type StopTimings } from './stop';

/**
 * Supervisor runs VMs for one XRAY_HOME: it starts, adopts, watches and stops
 * QEMU processes (each VM's life is a VmMachine) and routes live snapshots and
 * firewall prompts. Operations on one VM are queued so two clients acting at
 * once get consistent answers and never two QEMUs.
 */
export class Supervisor implements Engine {
  private readonly machines = new Map<string, VmMachine>();
  private readonly queue = new KeyedQueue();
  /** guestFirewall holds the VMs whose in-guest redirection a boot hook verified this run. */
  private readonly guestFirewall = new Set<string>();
  private readonly guests: GuestLink;
  private readonly qemu: QemuProcesses;
  private readonly launcher: Pick<Launcher, 'prepare'>;
  private readonly isQemuFor: (pid: number, qmpSocket: string) => Promise<boolean>;
  private readonly stopTimings: Omit<StopTimings, 'powerButtonMs'>;
  private readonly snapshots: LiveSnapshots;
  private readonly consoles: Consoles;
  private clientCount: () => number = () => 0;
  readonly firewalls: FirewallHost;
  readonly handlers: Engine['handlers'];
  readonly live: Engine['live'];

  constructor(
    private readonly deps: SupervisorDeps,
    options: SupervisorOptions = {},
  ) {
    this.guests = new GuestLink({
      ...bootChecks({ paths: deps.paths, vms: deps.vms, settings: deps.settings, emit: deps.emit }),
      login: options.login ?? (async (vm, opts) => connectVm(deps.paths, vm, await deps.sshTarget(vm), opts)),
      emit: deps.emit,
      runStartHooks: deps.runStartHooks,
    });
    this.qemu = options.qemu ?? realQemu;
    this.launcher = options.launcher ?? new Launcher({ paths: deps.paths, settings: deps.settings, vms: deps.vms, qemuImg: deps.qemuImg, sshTarget: deps.sshTarget });
    this.isQemuFor = options.isQemuFor ?? isQemuFor;
    this.stopTimings = options.stopTimings ?? DEFAULT_STOP_TIMINGS;
    this.firewalls = new FirewallHost({
      paths: deps.paths,
      settings: deps.settings,
      ruleStore: deps.ruleStore,
      secretBindings: deps.secretBindings,
      secrets: deps.secrets,
      emit: deps.emit,
      clientCount: () => this.clientCount(),
      guestReachable: (vm) => this.machines.get(vm)?.state === 'ready',
      login: (vm) => this.guests.login(vm),
    });
    this.snapshots = new LiveSnapshots({ vms: deps.vms, emit: deps.emit, monitor: (vm) => this.monitor(vm) });
    this.consoles = new Consoles({ paths: deps.paths, emit: deps.emit });
    this.handlers = {
      'vm.start': (p) => this.start(p),
      'vm.stop': (p) => this.stop(p),
      'vm.consoleInput': (p) => this.consoles.input(p),
      ...this.firewalls.handlers,
      'firewall.connections': async ({ vm, follow }) => {
        await this.deps.vms.read(validateName('VM', vm));
        return this.firewalls.connections(vm, Boolean(follow));
      },
      'port.listening': async ({ vm }) => {
        await this.deps.vms.read(validateName('VM', vm));
        return this.machines.get(vm)?.state === 'ready' ? this.guests.listening(vm) : null;
      },
    };
    this.live = liveSnapshotHandlers(this.snapshots, this.queue);
  }

  /**
   * setGuestFirewall records whether the guest routes all TCP through the
   * firewall (checked by the built-in boot hook); only then is it "active".
   */
  setGuestFirewall(vm: string, active: boolean): void {
    if (active) this.guestFirewall.add(vm);
    else this.guestFirewall.delete(vm);
    this.deps.emit({ type: 'firewall.status', vm, active });
  }

  liveFirewall(vm: string): ReturnType<FirewallHost['liveFirewall']> {
    return this.firewalls.liveFirewall(vm);
  }

  liveConsole(vm: string): ReturnType<Consoles['live']> {
    return this.consoles.live(vm);
  }

  forwards<T>(vm: string, change: (live: LiveForwards | null) => Promise<T>): Promise<T> {
    const name = validateName('VM', vm);
    return this.queue.run(name, () => change(this.isRunning(name) ? liveForwards(name, this.machines.get(name)!.qmp) : null));
  }

  /** setClientCount tells the prompt broker how many UIs are attached (the host knows). */
  setClientCount(count: () => number): void {
    this.clientCount = count;
  }

  /** isRunning tells whether a QEMU runs for the VM (one starting has none until it is spawned). */
  isRunning(vm: string): boolean {
    const machine = this.machines.get(vm);
    return machine !== undefined && isActive(machine.state) && machine.pid !== null;
  }

  /** running lists the VMs this supervisor has a QEMU for. */
  get running(): string[] {
    return [...this.machines.keys()].filter((name) => this.isRunning(name));
  }

  decorate(summary: VmSummary): VmSummary {
    const firewall = () => ({ ...this.firewalls.counts(summary.name), firewallActive: this.guestFirewall.has(summary.name) });
    return runningSummary(summary, this.machines.get(summary.name), firewall);
  }

  /** adoptRunning picks up VMs whose QEMU outlived an earlier supervisor (adopt.ts). */
  adoptRunning(): Promise<string[]> {
    const { qemu, isQemuFor, firewalls, consoles, guests } = this;
    return adoptRunning({ ...this.deps, qemu, isQemuFor, firewalls, consoles, guests, isRunning: (vm) => this.isRunning(vm), machineFor: (vm) => this.machineFor(vm) });
  }

  /** stopAll stops every running VM (the app's Quit, after the user agreed). */
  async stopAll(force = false): Promise<void> {
    await Promise.all(this.running.map((name) => this.stop({ name, force }).catch(() => undefined)));
  }

  /** detach closes QMP connections and leaves VMs running (the app or daemon exits). */
  async detach(): Promise<void> {
    this.guests.cancel();
    await this.consoles.detachAll();
    await Promise.all(
      [...this.machines.values()].filter((m) => isActive(m.state)).map(async (m) => {
        await m.detach();
        await this.firewalls.stopVm(m.name);
      }),
    );
    this.machines.clear();
    this.firewalls.close();
  }

  private machineFor(name: string): VmMachine {
    let machine = this.machines.get(name);
    if (!machine) {
      machine = new VmMachine(name, this.deps.paths.vm(name), (change) => this.changed(name, change), () => this.consoles.detach(name));
      this.machines.set(name, machine);
    }
    return machine;
  }

  /** changed announces a VM's state change, and lets go of its firewall once QEMU is gone. */
  private changed(name: string, change: MachineChange): void {
    if (!isActive(change.state)) {
      this.guestFirewall.delete(name);
      this.guests.forget(name);
      void this.firewalls.stopVm(name);
    }
    const { crash, stoppedBy } = change;
    this.deps.emit({ type: 'vm.state', vm: name, state: change.state, previous: change.previous, ...(crash ? { crash } : {}), ...(stoppedBy ? { stoppedBy } : {}) });
  }

  private start(params: ParsedParams<'vm.start'>): Promise<Results['vm.start']> {
    const name = validateName('VM', params.name);
    return this.queue.run(name, async () => {
      const modeProblem = startModeProblem(name, params, this.isRunning(name));
      if (modeProblem) throw modeProblem;
      if (this.isRunning(name)) return this.summary(name);
      const { vm, prepared, consoleFrom } = await planStart({ ...this.deps, launcher: this.launcher }, name, params);
      const machine = this.machineFor(name);
      await machine.launch(async () => {
        await this.firewalls.startVm(name, { allowAll: Boolean(params.allowAll), learn: Boolean(params.learn) });
        await prepareSocketDir(vm.qmpSocket);
        await makeConsolePipe(vm.consolePipe);
        const process = await this.qemu.launch(name, vm, prepared.request);
        // Before the machine watches QEMU's exit, so the relay closes after it opened.
        await this.consoles.attach(name, consoleFrom);
        return process;
      });
      if (params.fromSnapshot) {
        try {
          await this.snapshots.resumeFrom(name, params.fromSnapshot);
        } catch (err) {
          await machine.stop(await this.stopRequest(machine, true));
          throw err;
        }
      }
      if (machine.state !== 'starting') {
        throw new XrayError('qemu', `VM "${name}" ${machine.state} while starting; see "xray console ${name}".`);
      }
      machine.booted();
      this.guests.watch(machine, { runHooks: !params.noHooks, consoleFrom });
      return this.summary(name);
    });
  }

  private stop(params: ParsedParams<'vm.stop'>): Promise<Results['vm.stop']> {
    const name = validateName('VM', params.name);
    const task = async (): Promise<Results['vm.stop']> => {
      const machine = this.machines.get(name);
      if (!machine || !isActive(machine.state)) {
        await this.deps.vms.read(name);
        return { ...(await this.summary(name)), stoppedBy: null };
      }
      const request = await this.stopRequest(machine, Boolean(params.force));
      const stoppedBy = await (params.force ? machine.forceStop(request) : machine.stop(request));
      return { ...(await this.summary(name)), stoppedBy };
    };
    // A force stop does not queue behind a gentle stop that waits on the guest: it cuts that stop short.
    return params.force && this.machines.get(name)?.state === 'stopping' ? task() : this.queue.run(name, task);
  }

  /** stopRequest is how a VM is stopped now: SSH is offered only to a guest Xray has logged in to. */
  private async stopRequest(machine: VmMachine, force: boolean): Promise<StopRequest> {
    const settings = await this.deps.settings.read();
    return {
      force,
      timings: { ...this.stopTimings, powerButtonMs: settings.stopTimeoutSeconds * 1000 },
      guestPoweroff: machine.state === 'ready' ? (sent) => this.guests.poweroff(machine.name, sent) : null,
    };
  }

  private async summary(name: string): Promise<VmSummary> {
    return this.decorate(await this.deps.summary(name));
  }

  /** monitor is a running VM's QMP, for live snapshots. */
  private monitor(vm: string): QmpChannel {
    if (!this.isRunning(validateName('VM', vm))) throw new XrayError('invalid-argument', `VM "${vm}" is not running.`);
    return this.machines.get(vm)!.qmp;
  }
}

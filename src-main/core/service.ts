// Runs in: plain Node (core).
import type { Method, Params, Results, XrayApi, XrayEvent } from '../shared/contract';
import { parseParams } from '../shared/contract';
import type { PortChange } from '../shared/live';
import type { PortMapping, VmSummary } from '../shared/models';
import { isActive } from '../shared/vm';
import { BaseCatalog } from './bases/catalog';
import { baseHandlers, type BaseMethod } from './bases/api';
import { XrayError } from '../shared/errors';
import { EventBus } from './events';
import { engineHandlers } from './engine-api';
import { firewallHandlers, type FirewallMethod } from './firewall/api';
import { shareHandlers, type ShareMethod } from './shares/api';
import { learnHandlers } from './firewall/learn-api';
import { policyHandlers, type PolicyMethod } from './firewall/policy-api';
import type { Engine, EngineMethod, Handler, LiveForwards, SnapshotMethod } from './engine';
import { RuleStore } from './firewall/rule-store';
import { inspectDisk, QemuImg, snapshotList } from './images';
import { HookRunner, type BuiltInHook } from './hooks';
import { hookHandlers, type HookMethod } from './hooks/api';
import { PluginHost } from './plugins';
import { connectVm, vmSshTarget, type SshTarget } from './ssh';
import { secretHandlers, type SecretMethod } from './secrets/api';
import { SecretBindings } from './secrets/bindings';
import { SecretStore } from './secrets/store';
import { beforeCommand } from './hooks/risky';
import { AutoSnapshots } from './vms/auto-snapshots';
import { Journal } from './vms/journal';
import { describeSnapshots, OfflineSnapshots } from './vms/snapshots';
import { snapshotHandlers } from './vms/snapshot-api';
import { consoleTail } from './vms/logs';
import { readLivePid } from './vms/runtime';
import { validateName } from './names';
import type { HomePaths } from './paths';
import { SettingsStore } from './store/settings';
import { serializeVmConfig } from './store/vm-config';
import { VmCatalog } from './vms/catalog';

type Handlers = { [M in Method]: Handler<M> };
type FileMethod = Exclude<Method, EngineMethod>;

export interface ServiceOptions {
  readonly paths: HomePaths;
  readonly qemuImg: string;
  readonly efiVarsTemplate: (arch: 'aarch64' | 'x86_64') => Promise<string>;
  /** builtInHooks run before the user's scripts (the guest firewall setup). */
  readonly builtInHooks?: readonly BuiltInHook[];
  // For testing: replaces host facts used by create.
  readonly catalogOverrides?: Pick<ConstructorParameters<typeof VmCatalog>[1], 'resources' | 'portFree'>;
}

/**
 * XrayService is the one API every transport (CLI, control socket, Electron
 * IPC, browser UI) offers: a method per user action, an event per happening.
 */
export class XrayService implements XrayApi {
  readonly events = new EventBus();
  readonly catalog: VmCatalog;
  readonly bases: BaseCatalog;
  readonly settings: SettingsStore;
  readonly snapshots: OfflineSnapshots;
  readonly qemuImg: QemuImg;
  readonly plugins: PluginHost;
  readonly hooks: HookRunner;
  readonly firewallRules: RuleStore;
  /** journal records what every VM did (its timeline), from the events this service announces. */
  readonly journal: Journal;
  /** secrets are kept on the host (Keychain, Secret Service or a 0600 file); bindings live in vm.toml without values. */
  readonly secrets: SecretStore;
  readonly secretBindings: SecretBindings;
  /** autoSnapshots are the snapshots VMs take by themselves: after the first boot, before risky hooks and commands. */
  readonly autoSnapshots: AutoSnapshots;
  private engine: Engine | null = null;
  private readonly handlers: Handlers;

  constructor(private readonly options: ServiceOptions) {
    this.qemuImg = new QemuImg({ binary: options.qemuImg });
    this.catalog = new VmCatalog(options.paths, {
      qemuImg: this.qemuImg,
      efiVarsTemplate: options.efiVarsTemplate,
      ...options.catalogOverrides,
    });
    this.bases = new BaseCatalog(options.paths, this.qemuImg);
    this.settings = new SettingsStore(options.paths);
    this.snapshots = new OfflineSnapshots(options.paths, this.qemuImg);
    this.plugins = new PluginHost({
      paths: options.paths,
      store: this.catalog.store,
      connect: async (vm) => connectVm(options.paths, vm, await this.sshTarget(vm), { timeoutMs: 30_000 }),
      beforeRisky: (vm, plugin, command) => this.autoSnapshots.take(vm, beforeCommand(plugin, command)),
    });
    this.autoSnapshots = new AutoSnapshots({
      vms: this.catalog.store,
      settings: this.settings,
      list: (vm) => this.call('snapshot.list', { vm }),
      create: (vm, name, description) => this.call('snapshot.create', { vm, name, description }),
      remove: async (vm, name) => void (await this.call('snapshot.delete', { vm, name })),
    });
    this.hooks = new HookRunner({
      paths: options.paths,
      emit: (event) => this.emit(event),
      plugins: this.plugins,
      builtIns: options.builtInHooks ?? [],
      store: this.catalog.store,
      snapshots: this.autoSnapshots,
    });
    this.firewallRules = new RuleStore(options.paths, this.catalog.store);
    this.journal = new Journal(options.paths, (event) => this.emit(event));
    this.secrets = new SecretStore(options.paths);
    this.secretBindings = new SecretBindings(this.catalog.store);
    this.subscribe((event) => this.journal.observe(event));
    this.handlers = {
      ...this.fileHandlers(),
      ...baseHandlers({ bases: this.bases, settings: this.settings, emit: this.emit }),
      ...firewallHandlers({
        paths: options.paths,
        vms: this.catalog.store,
        ruleStore: this.firewallRules,
        emit: this.emit,
        live: (vm) => this.engine?.liveFirewall(vm) ?? null,
      }),
      ...shareHandlers({
        vms: this.catalog.store,
        folders: { xrayHome: options.paths.root },
        emit: this.emit,
        running: async (vm) => isActive(this.decorate(await this.catalog.summary(vm)).state),
      }),
      ...snapshotHandlers({ offline: this.snapshots, emit: this.emit, engine: () => this.engine, isLive: (vm) => this.isLive(vm) }),
      ...learnHandlers({ paths: options.paths, vms: this.catalog.store, ruleStore: this.firewallRules, live: (vm) => this.engine?.liveFirewall(vm) ?? null }),
      ...policyHandlers({ vms: this.catalog.store, ruleStore: this.firewallRules, bindings: this.secretBindings, secrets: this.secrets, emit: this.emit }),
      ...hookHandlers({ vms: this.catalog.store, hooks: this.hooks, sshTarget: (vm) => this.sshTarget(vm), emit: this.emit }),
      ...secretHandlers({ secrets: this.secrets, bindings: this.secretBindings, emit: this.emit }),
      ...engineHandlers({ paths: options.paths, vms: this.catalog.store, summary: (vm) => this.catalog.summary(vm), engine: () => this.engine }),
    };
  }

  get paths(): HomePaths {
    return this.options.paths;
  }

  /** attachEngine is called by the supervisor that hosts this service. */
  attachEngine(engine: Engine): void {
    this.engine = engine;
  }

  /** emit announces an event to every subscriber; a plain function, so it can be handed on. */
  readonly emit = (event: XrayEvent): void => this.events.emit(event);

  subscribe(listener: (event: XrayEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
    const parsed = parseParams(method, params);
    if (!parsed.ok) return Promise.reject(new XrayError('invalid-argument', parsed.problem));
    const handler = this.handlers[method] as Handler<M>;
    return handler(parsed.value);
  }

  private decorate(summary: VmSummary): VmSummary {
    return this.engine ? this.engine.decorate(summary) : summary;
  }

  private async requireStopped(name: string, action: string): Promise<void> {
    const summary = this.decorate(await this.catalog.summary(name));
    if (summary.state !== 'stopped' && summary.state !== 'crashed') {
      throw new XrayError('in-use', `VM "${name}" is running; stop it first with "xray stop ${name}" before you ${action}.`);
    }
  }

  /** sshTarget is how Xray logs in to a VM: its port, user and key. */
  sshTarget(vm: string): Promise<SshTarget> {
    return vmSshTarget(this.paths, validateName('VM', vm), { store: this.catalog.store, settings: this.settings });
  }

  /** isLive tells whether a VM is running under this service's engine. */
  private async isLive(name: string): Promise<boolean> {
    validateName('VM', name);
    if (this.engine?.isRunning(name)) return true;
    if (!this.engine && (await readLivePid(this.paths.vm(name))) !== null) {
      throw new XrayError('in-use', `VM "${name}" is running under another Xray process; use the Xray app or "xray daemon" that runs it.`);
    }
    return false;
  }

  /** changePorts changes a VM's forwards in vm.toml, and in QEMU at once while the VM runs here. */
  private async changePorts(vm: string, change: (live: LiveForwards | null) => Promise<PortMapping[]>): Promise<PortChange> {
    validateName('VM', vm);
    const apply = async (live: LiveForwards | null): Promise<PortChange> => {
      const ports = await change(live);
      this.emit({ type: 'vm.changed', vm });
      return { ports, live: live !== null };
    };
    return this.engine ? this.engine.forwards(vm, apply) : apply(null);
  }

  private fileHandlers(): { [M in Exclude<FileMethod, FirewallMethod | PolicyMethod | 'firewall.learned' | BaseMethod | SnapshotMethod | ShareMethod | HookMethod | SecretMethod>]: Handler<M> } {
    return {
      'vm.list': async () => (await this.catalog.list()).map((s) => this.decorate(s)),
      'vm.info': async ({ name }) => {
        validateName('VM', name);
        // A stopped VM's disk tells its chain and its snapshots (read from its qcow2 headers); a running one's snapshots come from QEMU.
        // The disk is read while vm.toml is; a VM that does not exist is still reported as such.
        const inspected = inspectDisk(this.paths.vm(name).disk, this.qemuImg);
        inspected.catch(() => undefined);
        const summary = this.decorate(await this.catalog.summary(name));
        const config = await this.catalog.store.read(name);
        const live = this.engine?.isRunning(name) ?? false;
        const [disk, liveSnapshots, autoSnapshots] = await Promise.all([
          inspected,
          live ? this.handlers['snapshot.list']({ vm: name }) : null,
          this.autoSnapshots.settingsOf(name),
        ]);
        const snapshots = liveSnapshots ?? describeSnapshots(config, snapshotList(disk.snapshots));
        return { summary, config: serializeVmConfig(config), diskChain: disk.chain, snapshots, autoSnapshots };
      },
      'vm.defaults': async () => this.catalog.defaults(),
      'vm.create': async (params) => {
        await this.catalog.create(params);
        this.emit({ type: 'vm.changed', vm: params.name });
        await this.hooks.runLifecycle(params.name, 'create', () => this.sshTarget(params.name));
        return this.decorate(await this.catalog.summary(params.name));
      },
      'vm.remove': async ({ name }) => {
        await this.requireStopped(name, 'remove it');
        await this.catalog.remove(name);
        this.emit({ type: 'vm.removed', vm: name });
        return null;
      },
      'vm.update': async ({ name, memoryMb, cpus, sshUser, autoSnapshots }) => {
        if (memoryMb !== undefined || cpus !== undefined || sshUser !== undefined) await this.requireStopped(name, 'change its memory, CPUs or SSH user');
        await this.catalog.update(name, { memoryMb, cpus, sshUser, autoSnapshots });
        this.emit({ type: 'vm.changed', vm: name });
        return this.decorate(await this.catalog.summary(name));
      },
      'vm.timeline': async ({ vm, since, limit }) => {
        await this.catalog.store.read(validateName('VM', vm));
        return this.journal.read(vm, { since, limit: limit ?? 1000 });
      },
      'vm.console': async ({ name }) => {
        await this.catalog.store.read(validateName('VM', name));
        return (await this.engine?.liveConsole(name)?.scrollback()) ?? consoleTail(this.paths.vm(name).consoleLog);
      },
      'port.list': async ({ vm }) => [...(await this.catalog.store.read(vm)).ports],
      'port.add': ({ vm, mapping }) => this.changePorts(vm, (live) => this.catalog.addPort(vm, mapping, live)),
      'port.remove': ({ vm, mapping }) => this.changePorts(vm, (live) => this.catalog.removePort(vm, mapping, live)),
      'plugin.list': () => this.plugins.load(),
      'plugin.run': async ({ plugin, command, args }) => {
        await this.plugins.load();
        return this.plugins.runCommand(plugin, command, args);
      },
      'config.get': () => this.settings.read(),
      'config.set': ({ key, value }) => this.settings.set(key, value),
    };
  }
}

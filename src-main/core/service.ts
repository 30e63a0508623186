// Runs in: plain Node (core).
import type { Method, ParsedParams, Params, Results, XrayApi, XrayEvent } from '../shared/contract';
import { parseParams } from '../shared/contract';
import type { RuleLifetime, VmSummary } from '../shared/models';
import { BaseCatalog } from './bases/catalog';
import { IMAGE_CATALOG } from '../shared/catalog';
import { fileNameOf } from './bases/pull';
import { XrayError } from '../shared/errors';
import { EventBus } from './events';
import { baseNameFromFile } from '../shared/names';
import { type FirewallLog, RuleSet, isPersistent, parseUserRuleTarget } from './firewall';
import { RuleStore } from './firewall/rule-store';
import { diskChain, QemuImg } from './images';
import { HookRunner, type BuiltInHook } from './hooks';
import { PluginHost } from './plugins';
import { connectVm, vmSshTarget, type SshTarget } from './ssh';
import { SecretBindings } from './secrets/bindings';
import { SecretStore } from './secrets/store';
import { Journal } from './vms/journal';
import { OfflineSnapshots } from './vms/snapshots';
import { tailOf } from './vms/logs';
import { readLivePid } from './vms/runtime';
import { validateName } from './names';
import type { HomePaths } from './paths';
import { SettingsStore } from './store/settings';
import { serializeVmConfig } from './store/vm-config';
import { VmCatalog } from './vms/catalog';

type Handler<M extends Method> = (params: ParsedParams<M>) => Promise<Results[M]>;
type Handlers = { [M in Method]: Handler<M> };

/**
 * Engine is what a running supervisor adds to the service: everything that
 * needs a live process (QEMU, the firewall's prompts). A service without one
 * still serves every file method; the engine methods then answer what they
 * can (withoutEngine) or say a supervisor is needed.
 */
export type EngineMethod = 'vm.start' | 'vm.stop' | 'prompt.list' | 'prompt.answer';
type FileMethod = Exclude<Method, EngineMethod>;

type FirewallMethod = 'firewall.rules' | 'firewall.add' | 'firewall.remove' | 'firewall.clear' | 'firewall.log';
type SnapshotMethod = 'snapshot.list' | 'snapshot.create' | 'snapshot.revert' | 'snapshot.delete';

export interface Engine {
  /** handlers covers every engine method (the compiler checks an engine has them all). */
  readonly handlers: { [M in EngineMethod]: Handler<M> };
  /** decorate overlays live state (state, pid, connections) on a stored summary. */
  decorate(summary: VmSummary): VmSummary;
  /** isRunning tells whether the engine has a QEMU for this VM now. */
  isRunning(vm: string): boolean;
  /** live handles snapshot requests for a running VM (memory included). */
  readonly live: { [M in SnapshotMethod]: Handler<M> };
  /** liveFirewall is a running VM's rules and connection log in memory, or null. */
  liveFirewall(vm: string): { readonly rules: RuleSet; readonly log: FirewallLog } | null;
}

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
  private engine: Engine | null = null;
  /** jobs are pulls under way, by base name, so base.cancel can stop one. */
  private readonly jobs = new Map<string, AbortController>();
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
    });
    this.hooks = new HookRunner({
      paths: options.paths,
      emit: (event) => this.emit(event),
      plugins: this.plugins,
      builtIns: options.builtInHooks ?? [],
      store: this.catalog.store,
    });
    this.firewallRules = new RuleStore(options.paths, this.catalog.store);
    this.journal = new Journal(options.paths, (event) => this.emit(event));
    this.secrets = new SecretStore(options.paths);
    this.secretBindings = new SecretBindings(this.catalog.store);
    this.subscribe((event) => this.journal.observe(event));
    this.handlers = { ...this.fileHandlers(), ...this.firewallHandlers(), ...this.engineHandlers() };
  }

  get paths(): HomePaths {
    return this.options.paths;
  }

  /** attachEngine is called by the supervisor that hosts this service. */
  attachEngine(engine: Engine): void {
    this.engine = engine;
  }

  emit(event: XrayEvent): void {
    this.events.emit(event);
  }

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

  /** startJob registers a pull under its base name; two at once for one name are refused. */
  private startJob(name: string): AbortController {
    if (this.jobs.has(name)) throw new XrayError('busy', `"${name}" is already being pulled; wait for it or cancel it.`);
    const abort = new AbortController();
    this.jobs.set(name, abort);
    return abort;
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

  private async withSnapshotProgress<T>(vm: string, name: string, operation: 'create' | 'revert' | 'delete', task: () => Promise<T>): Promise<T> {
    this.emit({ type: 'snapshot.progress', vm, name, operation, status: 'running' });
    try {
      const result = await task();
      this.emit({ type: 'snapshot.progress', vm, name, operation, status: 'done' });
      return result;
    } catch (err) {
      this.emit({ type: 'snapshot.progress', vm, name, operation, status: 'failed', error: (err as Error).message });
      throw err;
    }
  }

  private fileHandlers(): { [M in Exclude<FileMethod, FirewallMethod>]: Handler<M> } {
    return {
      'vm.list': async () => (await this.catalog.list()).map((s) => this.decorate(s)),
      'vm.info': async ({ name }) => {
        validateName('VM', name);
        const summary = this.decorate(await this.catalog.summary(name));
        const config = await this.catalog.store.read(name);
        const vm = this.paths.vm(name);
        const [chain, snapshots] = await Promise.all([
          diskChain(vm.disk, this.qemuImg),
          this.handlers['snapshot.list']({ vm: name }),
        ]);
        return { summary, config: serializeVmConfig(config), diskChain: chain, snapshots };
      },
      'vm.defaults': async () => this.catalog.defaults(),
      'vm.create': async (params) => {
        await this.catalog.create(params);
        this.emit({ type: 'vm.changed', vm: params.name });
        await this.hooks.runLifecycle(params.name, 'create', await this.sshTarget(params.name));
        return this.decorate(await this.catalog.summary(params.name));
      },
      'vm.remove': async ({ name }) => {
        await this.requireStopped(name, 'remove it');
        await this.catalog.remove(name);
        this.emit({ type: 'vm.removed', vm: name });
        return null;
      },
      'vm.update': async ({ name, memoryMb, cpus, sshUser }) => {
        await this.requireStopped(name, 'change its settings');
        await this.catalog.update(name, { memoryMb, cpus, sshUser });
        this.emit({ type: 'vm.changed', vm: name });
        return this.decorate(await this.catalog.summary(name));
      },
      'vm.timeline': async ({ vm, since, limit }) => {
        await this.catalog.store.read(validateName('VM', vm));
        return this.journal.read(vm, { since, limit: limit ?? 1000 });
      },
      'vm.console': async ({ name, lines }) => {
        await this.catalog.store.read(validateName('VM', name));
        return tailOf(this.paths.vm(name).consoleLog, lines ?? 200);
      },
      'port.list': async ({ vm }) => [...(await this.catalog.store.read(vm)).ports],
      'port.add': async ({ vm, mapping }) => {
        const ports = await this.catalog.addPort(vm, mapping);
        this.emit({ type: 'vm.changed', vm });
        return ports;
      },
      'port.remove': async ({ vm, mapping }) => {
        const ports = await this.catalog.removePort(vm, mapping);
        this.emit({ type: 'vm.changed', vm });
        return ports;
      },
      'base.list': () => this.bases.list(),
      'base.import': async (params) => {
        const name = params.name ?? baseNameFromFile(params.path);
        const info = await this.bases.import({
          ...params,
          onProgress: (done, total) => this.emit({ type: 'base.progress', name, done, total }),
        });
        this.emit({ type: 'base.changed' });
        return info;
      },
      'base.catalog': async () => {
        const bases = new Set((await this.bases.list()).map((b) => b.name));
        return IMAGE_CATALOG.map(({ name, arch, title, url }) => ({ name, arch, title, url, imported: bases.has(name) }));
      },
      'base.pull': async (params) => {
        const name = params.name ?? (params.source.includes('://') ? baseNameFromFile(fileNameOf(params.source)) : params.source);
        const settings = await this.settings.read();
        const abort = this.startJob(name);
        try {
          const info = await this.bases.pull({
            ...params,
            name: params.name,
            mirror: process.env.XRAY_IMAGE_MIRROR || settings.imageMirror,
            signal: abort.signal,
            onProgress: (p) => this.emit({ type: 'base.progress', name, phase: p.phase, done: p.done, total: p.total ?? 0, bytesPerSecond: p.bytesPerSecond }),
          });
          this.emit({ type: 'base.changed' });
          return info;
        } finally {
          this.jobs.delete(name);
        }
      },
      'base.cancel': async ({ name }) => {
        const job = this.jobs.get(name);
        if (!job) throw new XrayError('not-found', `Nothing is being pulled or imported as "${name}".`);
        job.abort();
        return null;
      },
      'base.remove': async ({ name }) => {
        await this.bases.remove(name);
        this.emit({ type: 'base.changed' });
        return null;
      },
      'snapshot.list': async (params) => {
        // Reading works from the files even while another process runs the VM (qemu-img reads with force-share).
        if (this.engine?.isRunning(validateName('VM', params.vm))) return this.engine.live['snapshot.list'](params);
        return this.snapshots.list(params.vm);
      },
      'snapshot.create': async (params) => {
        if (await this.isLive(params.vm)) return this.engine!.live['snapshot.create'](params);
        return this.withSnapshotProgress(params.vm, params.name, 'create', () => this.snapshots.create(params.vm, params.name, params.description));
      },
      'snapshot.revert': async (params) => {
        if (await this.isLive(params.vm)) return this.engine!.live['snapshot.revert'](params);
        await this.withSnapshotProgress(params.vm, params.name, 'revert', () => this.snapshots.revert(params.vm, params.name));
        return null;
      },
      'snapshot.delete': async (params) => {
        if (await this.isLive(params.vm)) return this.engine!.live['snapshot.delete'](params);
        await this.withSnapshotProgress(params.vm, params.name, 'delete', () => this.snapshots.remove(params.vm, params.name));
        return null;
      },
      'hooks.list': async ({ vm }) => {
        await this.catalog.store.read(validateName('VM', vm));
        return this.hooks.list(vm);
      },
      'hooks.run': async ({ vm, type }) => this.hooks.run(vm, type, await this.sshTarget(vm)),
      'hooks.runs': async ({ vm, limit }) => {
        await this.catalog.store.read(validateName('VM', vm));
        return this.hooks.runs(vm, limit ?? 50);
      },
      'hooks.resetInitialBoot': async ({ vm }) => {
        await this.hooks.resetInitialBoot(validateName('VM', vm));
        this.emit({ type: 'vm.changed', vm });
        return null;
      },
      'secret.list': () => this.secrets.list(),
      'secret.set': async ({ name, value }) => this.secrets.set(name, value),
      'secret.remove': async ({ name }) => {
        if (!(await this.secrets.remove(name))) throw new XrayError('not-found', `There is no secret "${name}"; see "xray secret list".`);
        return null;
      },
      'secret.bindings': ({ vm }) => this.secretBindings.list(validateName('VM', vm)),
      'secret.bind': async ({ vm, ...input }) => {
        if (!(await this.secrets.list()).secrets.some((s) => s.name === input.secret)) {
          throw new XrayError('not-found', `There is no secret "${input.secret}"; set it first with "xray secret set ${input.secret}".`);
        }
        const binding = await this.secretBindings.bind(validateName('VM', vm), input);
        this.emit({ type: 'vm.changed', vm });
        return binding;
      },
      'secret.unbind': async ({ vm, secret }) => {
        if (!(await this.secretBindings.unbind(validateName('VM', vm), secret))) {
          throw new XrayError('not-found', `VM "${vm}" has no binding for secret "${secret}"; see "xray secret bindings ${vm}".`);
        }
        this.emit({ type: 'vm.changed', vm });
        return null;
      },
      'plugin.list': () => this.plugins.load(),
      'plugin.run': async ({ plugin, command, args }) => {
        await this.plugins.load();
        return this.plugins.runCommand(plugin, command, args);
      },
      'config.get': () => this.settings.read(),
      'config.set': ({ key, value }) => this.settings.set(key, value),
    };
  }

  /**
   * firewallHandlers serve a VM's rules and log from its files (RuleStore),
   * with or without a supervisor; while the VM runs here, its live rule set
   * changes with the file, and rules that last only while it runs live
   * there alone.
   */
  private firewallHandlers(): { [M in FirewallMethod]: Handler<M> } {
    const live = (vm: string) => this.engine?.liveFirewall(validateName('VM', vm)) ?? null;
    return {
      'firewall.rules': async ({ vm }) => {
        const running = live(vm);
        if (running) return running.rules.list();
        const [stored, defaults] = await Promise.all([this.firewallRules.read(vm), this.firewallRules.defaults()]);
        return new RuleSet(stored.rules, defaults.entries).list();
      },
      'firewall.add': async (p) => {
        const target = parseUserRuleTarget(p.target);
        await this.catalog.store.read(validateName('VM', p.vm));
        const running = live(p.vm);
        if (!running && (p.lifetime === 'once' || p.lifetime === 'until-stop')) {
          throw new XrayError('invalid-argument', `VM "${p.vm}" is not running, so a rule "${p.lifetime}" would never apply; make it last a while or forever.`, {
            cli: `VM "${p.vm}" is not running, so a rule "${p.lifetime}" would never apply; use --for or --forever.`,
          });
        }
        if (p.lifetime === 'duration' && !p.durationSeconds) {
          throw new XrayError('invalid-argument', 'A rule for a while needs its duration.', { cli: 'A rule for a while needs its duration, like --for 1h.' });
        }
        const lifetime: RuleLifetime =
          p.lifetime === 'duration' ? { kind: 'duration', until: new Date(Date.now() + p.durationSeconds! * 1000).toISOString() } : { kind: p.lifetime };
        const rule = (running?.rules ?? new RuleSet()).add({ target, action: p.action, lifetime });
        if (isPersistent(rule)) await this.firewallRules.put(p.vm, rule);
        this.emit({ type: 'vm.changed', vm: p.vm });
        return rule;
      },
      'firewall.remove': async ({ vm, id }) => {
        if (id.startsWith('default:')) {
          throw new XrayError('invalid-argument', `Rule "${id}" comes from ${this.paths.defaultFirewallRules}; edit that file to change it.`);
        }
        const fromFile = await this.firewallRules.remove(validateName('VM', vm), id);
        const fromMemory = live(vm)?.rules.remove(id) ?? false;
        if (!fromFile && !fromMemory) throw new XrayError('not-found', `VM "${vm}" has no rule "${id}"; see "xray firewall list ${vm}".`);
        this.emit({ type: 'vm.changed', vm });
        return null;
      },
      'firewall.clear': async ({ vm }) => {
        await this.firewallRules.clear(validateName('VM', vm));
        live(vm)?.rules.clear();
        this.emit({ type: 'vm.changed', vm });
        return null;
      },
      'firewall.log': async ({ vm, limit }) => {
        await this.catalog.store.read(validateName('VM', vm));
        return live(vm)?.log.entries(limit ?? 200) ?? this.firewallRules.log(vm, limit ?? 200);
      },
    };
  }

  /**
   * withoutEngine answers what it can with no supervisor in this process:
   * there are no prompts, and a VM that is not running is already stopped.
   * The rest needs the supervisor.
   */
  private async withoutEngine(method: EngineMethod, params: ParsedParams<EngineMethod>): Promise<Results[EngineMethod]> {
    if (method === 'prompt.list') return [];
    if (method === 'vm.stop') {
      const { name } = params as ParsedParams<'vm.stop'>;
      const summary = await this.catalog.summary(validateName('VM', name));
      if (summary.pid === null) return summary;
    }
    throw new XrayError('unsupported', `"${method}" needs the Xray supervisor; start the Xray app or run "xray daemon".`);
  }

  private engineHandlers(): { [M in EngineMethod]: Handler<M> } {
    const viaEngine =
      <M extends EngineMethod>(method: M): Handler<M> =>
      async (params) =>
        this.engine ? this.engine.handlers[method](params) : (this.withoutEngine(method, params) as Promise<Results[M]>);
    return { 'vm.start': viaEngine('vm.start'), 'vm.stop': viaEngine('vm.stop'), 'prompt.list': viaEngine('prompt.list'), 'prompt.answer': viaEngine('prompt.answer') };
  }
}

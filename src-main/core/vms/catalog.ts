// Runs in: plain Node (core).
import { mkdir, rm } from 'node:fs/promises';
import type { BaseInfo, PortMapping, VmSummary } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import type { LiveForwards } from '../engine';
import { hostResources, isPortFree, portHolder, type HostResources } from '../host';
import { createOverlay, type QemuImg } from '../images';
import { validateName } from '../names';
import type { HomePaths } from '../paths';
import { BaseStore } from '../store/bases';
import type { VmConfig } from '../store/vm-config';
import { VmStore } from '../store/vm-store';
import { type VmDefaults, fitVmDefaults, formatPortMapping } from '../../shared/vm';
import { checkPorts, checkResources, isConfig, pickSshPort } from './checks';
import { materializeEfiVars } from './efi-vars';
import { readLivePid } from './runtime';
import { summarize } from './summary';

/** CreateVmRequest is what a new VM is made from; what it leaves out comes from the host-fitted defaults and its base. */
export interface CreateVmRequest {
  readonly name: string;
  readonly base: string;
  readonly memoryMb?: number;
  readonly cpus?: number;
  readonly sshUser?: string;
  readonly ports?: readonly PortMapping[];
  /** cloudInit gives the VM a cloud-init seed (default: what its base says). */
  readonly cloudInit?: boolean;
}

/** CatalogDeps are the tools and host facts VmCatalog uses. */
export interface CatalogDeps {
  readonly qemuImg: QemuImg;
  /** efiVarsTemplate finds the firmware's UEFI variable template for an arch. */
  readonly efiVarsTemplate: (arch: BaseInfo['arch']) => Promise<string>;
  // For testing: host facts.
  readonly resources?: () => HostResources;
  readonly portFree?: (port: number) => Promise<boolean>;
  /** portHolder names what holds a busy port, when the host can tell. */
  readonly portHolder?: (port: number) => Promise<string | null>;
}

/**
 * VmCatalog owns VM definitions on disk: creating, listing, changing and
 * removing VMs. It never starts anything; the supervisor runs what it defines.
 */
export class VmCatalog {
  private readonly vms: VmStore;
  private readonly bases: BaseStore;
  private readonly resources: () => HostResources;
  private readonly portFree: (port: number) => Promise<boolean>;
  private readonly portHolder: (port: number) => Promise<string | null>;
  /** createQueue serializes creates in this process so two never pick one SSH port. */
  private createQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly paths: HomePaths,
    private readonly deps: CatalogDeps,
  ) {
    this.vms = new VmStore(paths);
    this.bases = new BaseStore(paths);
    this.resources = deps.resources ?? hostResources;
    this.portFree = deps.portFree ?? isPortFree;
    this.portHolder = deps.portHolder ?? portHolder;
  }

  get store(): VmStore {
    return this.vms;
  }

  create(request: CreateVmRequest): Promise<VmConfig> {
    const run = this.createQueue.then(() => this.createNow(request));
    this.createQueue = run.catch(() => undefined);
    return run;
  }

  private async createNow(request: CreateVmRequest): Promise<VmConfig> {
    const name = validateName('VM', request.name);
    validateName('base image', request.base);
    if (await this.vms.exists(name)) {
      throw new XrayError('already-exists', `A VM named "${name}" already exists; choose another name or remove it with "xray remove ${name}".`);
    }
    if (!(await this.bases.exists(request.base))) {
      throw new XrayError('not-found', `There is no base image "${request.base}"; import one with "xray base import PATH" or see "xray base list".`);
    }
    const defaults = this.defaults();
    const memoryMb = request.memoryMb ?? defaults.memoryMb;
    const cpus = request.cpus ?? defaults.cpus;
    checkResources(this.resources(), memoryMb, cpus);
    const others = (await this.vms.list()).filter(isConfig);
    const ports = checkPorts(name, request.ports ?? [], others);
    const meta = await this.bases.readMeta(request.base);

    const vm = this.paths.vm(name);
    await mkdir(this.paths.vmsDir, { recursive: true, mode: 0o700 });
    try {
      await mkdir(vm.dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new XrayError('already-exists', `A VM named "${name}" already exists; choose another name or remove it with "xray remove ${name}".`);
      }
      throw err;
    }
    try {
      // The disk, the UEFI variables and the SSH port (whose probe is mostly
      // this thread's work) are made side by side; vm.toml, which makes the
      // VM exist, comes last.
      const [disk, efiVars, sshPort] = await Promise.allSettled([
        createOverlay(this.paths.baseImage(request.base), vm.disk, this.deps.qemuImg, this.paths.overlayTemplates(request.base)),
        this.deps.efiVarsTemplate(meta.arch).then((template) => materializeEfiVars(this.paths.cacheDir, template, vm.efiVars, this.deps.qemuImg)),
        pickSshPort(others, ports, this.portFree),
      ]);
      for (const result of [disk, efiVars, sshPort]) if (result.status === 'rejected') throw result.reason;
      const config: VmConfig = {
        base: request.base,
        memoryMb,
        cpus,
        ports: [...ports],
        sshPort: (sshPort as PromiseFulfilledResult<number>).value,
        sshUser: request.sshUser ?? defaults.sshUser,
        firewallConfigured: false,
        firstBootCompleted: false,
        firewall: {},
        plugins: {},
        snapshots: {},
        autoSnapshots: null,
        cloudInit: request.cloudInit ?? meta.cloudInit,
        extra: {},
      };
      await this.vms.write(name, config);
      return config;
    } catch (err) {
      await rm(vm.dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** defaults is what a new VM gets when nobody says, fitted to this host (VM_PREFERRED, fitVmDefaults). */
  defaults(): VmDefaults {
    return fitVmDefaults(this.resources());
  }

  /** list returns every VM, with a config error instead of a config for broken ones. */
  async list(): Promise<VmSummary[]> {
    const [entries, bases] = await Promise.all([this.vms.list(), this.bases.list()]);
    const archOf = new Map(bases.map((b) => [b.name, b.meta.arch]));
    return entries.map((entry) =>
      summarize(entry.name, entry.config, entry.error, readLivePid(this.paths.vm(entry.name)), (entry.config && archOf.get(entry.config.base)) ?? 'x86_64'),
    );
  }

  async summary(name: string): Promise<VmSummary> {
    const config = await this.vms.read(name);
    const pid = readLivePid(this.paths.vm(name));
    return summarize(name, config, null, pid, await this.archOf(config));
  }

  private async archOf(config: VmConfig | null): Promise<BaseInfo['arch']> {
    if (!config) return 'x86_64';
    try {
      return (await this.bases.readMeta(config.base)).arch;
    } catch {
      return 'x86_64';
    }
  }

  async remove(name: string): Promise<void> {
    validateName('VM', name);
    if (!(await this.vms.exists(name))) {
      throw new XrayError('not-found', `VM "${name}" does not exist; run "xray list" to see your VMs.`);
    }
    if (readLivePid(this.paths.vm(name))) {
      throw new XrayError('in-use', `VM "${name}" is running; stop it first with "xray stop ${name}".`);
    }
    await this.vms.remove(name);
  }

  /** update changes a VM's settings, resources after the same checks create makes; autoSnapshots null follows config.toml. */
  async update(name: string, change: { memoryMb?: number; cpus?: number; sshUser?: string; autoSnapshots?: boolean | null }): Promise<VmConfig> {
    const current = await this.vms.read(validateName('VM', name));
    checkResources(this.resources(), change.memoryMb ?? current.memoryMb, change.cpus ?? current.cpus);
    return this.vms.update(name, (cfg) => {
      if (change.memoryMb !== undefined) cfg.memoryMb = change.memoryMb;
      if (change.cpus !== undefined) cfg.cpus = change.cpus;
      if (change.sshUser !== undefined) cfg.sshUser = change.sshUser;
      if (change.autoSnapshots !== undefined) cfg.autoSnapshots = change.autoSnapshots;
    });
  }

  /**
   * addPort adds a forward after the checks (not twice, not another VM's
   * port, free on this machine); `live` applies it to the running QEMU
   * first, and takes it back should vm.toml not take it.
   */
  async addPort(name: string, mapping: PortMapping, live: LiveForwards | null = null): Promise<PortMapping[]> {
    const others = (await this.vms.list()).filter(isConfig);
    const current = await this.vms.read(name);
    if (current.ports.some((p) => p.host === mapping.host) || current.sshPort === mapping.host) {
      throw new XrayError('already-exists', `VM "${name}" already uses host port ${mapping.host}; pick another host port.`);
    }
    checkPorts(name, [mapping], others);
    if (!(await this.portFree(mapping.host))) {
      const holder = await this.portHolder(mapping.host);
      throw new XrayError('in-use', `Host port ${mapping.host} is in use on this machine${holder ? ` (held by ${holder})` : ''}; pick another host port.`);
    }
    await live?.add(mapping);
    try {
      const updated = await this.vms.update(name, (cfg) => {
        cfg.ports = [...cfg.ports, mapping];
      });
      return [...updated.ports];
    } catch (err) {
      await live?.remove(mapping).catch(() => undefined);
      throw err;
    }
  }

  /** removePort removes a forward from vm.toml, and through `live` from the running QEMU at once. */
  async removePort(name: string, mapping: PortMapping, live: LiveForwards | null = null): Promise<PortMapping[]> {
    const current = await this.vms.read(name);
    if (!current.ports.some((p) => p.host === mapping.host && p.guest === mapping.guest)) {
      throw new XrayError('not-found', `VM "${name}" has no port mapping ${formatPortMapping(mapping)}; see "xray port list ${name}".`);
    }
    const updated = await this.vms.update(name, (cfg) => {
      cfg.ports = cfg.ports.filter((p) => !(p.host === mapping.host && p.guest === mapping.guest));
    });
    await live?.remove(mapping);
    return [...updated.ports];
  }
}

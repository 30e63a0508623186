// Runs in: plain Node (core).
import { readFile, rm, stat } from 'node:fs/promises';
import { platform as osPlatform } from 'node:os';
import type { GlobalSettings, GuestArch } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { hostnameForVm, writeNoCloudSeed } from '../guest/cloud-init';
import { hostArch, isPortFree, portHolder } from '../host';
import { migrateLegacyEfiVars, type QemuImg } from '../images';
import type { HomePaths } from '../paths';
import { checkHostFolder, shareTag } from '../shares/host-folder';
import {
  buildQemuArgv,
  defaultKvmProbe,
  findFirmware,
  findNetcat,
  findQemuBinaries,
  probeAccelerator,
  readQemuFacts,
  type DisplayMode,
  type HostFacts,
  type LaunchShare,
  type QemuFacts,
} from '../qemu';
import type { SshTarget } from '../ssh';
import type { VmConfig } from '../store/vm-config';
import type { VmStore } from '../store/vm-store';
import { isConfig, pickSshPort } from '../vms/checks';
import { availableMemoryMb } from './host-checks';
import type { LaunchRequest } from './qemu-process';

export interface LaunchOptions {
  readonly display: DisplayMode;
  readonly startPaused: boolean;
}

export interface PreparedLaunch {
  readonly request: LaunchRequest;
  /** warning is shown to the user (e.g. why the VM runs under slow TCG). */
  readonly warning: string | null;
  /** notice tells the user what the start changed so the VM could run (its SSH port moved). */
  readonly notice: string | null;
}

/** QemuOnHost is what starting a guest of one arch needs from this host: QEMU, firmware, netcat, the accelerator. */
export interface QemuOnHost extends HostFacts {
  readonly binary: string;
  readonly firmwareCode: string;
  readonly netcat: string;
  readonly warning: string | null;
}

/** HostRoom answers whether the host can take a VM: free memory and free ports. */
export interface HostRoom {
  availableMemoryMb(): Promise<number>;
  isPortFree(port: number): Promise<boolean>;
  /** portHolder names the program listening on a port, when the host can tell. */
  portHolder(port: number): Promise<string | null>;
}

export interface LauncherDeps {
  readonly paths: HomePaths;
  readonly settings: { read(): Promise<GlobalSettings> };
  /** vms lists the other VMs' ports and records a VM's new SSH port. */
  readonly vms: Pick<VmStore, 'list' | 'update'>;
  /** qemuImg converts a legacy raw UEFI variable store. */
  readonly qemuImg: QemuImg;
  /** sshTarget names the key whose public half a cloud-init seed carries. */
  readonly sshTarget: (vm: string) => Promise<SshTarget>;
  readonly env?: NodeJS.ProcessEnv;
  // For testing: the host's QEMU and room.
  readonly qemuOnHost?: (arch: GuestArch, settings: GlobalSettings) => Promise<QemuOnHost>;
  readonly room?: HostRoom;
}

const REAL_ROOM: HostRoom = { availableMemoryMb, isPortFree, portHolder };

/**
 * guestUid is the uid a new guest user is given: the host user's, so that
 * files on shared folders are the user's on both sides, as Lima does. Root
 * (0) and nobody (65534) are no user's to share, so they give none.
 */
function guestUid(): { uid?: number } {
  const uid = process.getuid?.();
  return uid !== undefined && uid > 0 && uid < 60000 ? { uid } : {};
}

/**
 * Launcher readies one VM start before QEMU runs: the host has the memory and
 * the ports, a legacy UEFI variable store is converted, a cloud-init guest
 * gets its seed, and the VM definition becomes a QEMU command line. The host's
 * QEMU is probed once per binary.
 */
export class Launcher {
  private readonly facts = new Map<string, Promise<QemuFacts>>();
  private netcat: Promise<string> | null = null;
  private readonly env: NodeJS.ProcessEnv;
  private readonly room: HostRoom;
  private readonly qemuOnHost: (arch: GuestArch, settings: GlobalSettings) => Promise<QemuOnHost>;

  constructor(private readonly deps: LauncherDeps) {
    this.env = deps.env ?? process.env;
    this.room = deps.room ?? REAL_ROOM;
    this.qemuOnHost = deps.qemuOnHost ?? ((arch, settings) => this.probe(arch, settings));
  }

  async prepare(name: string, defined: VmConfig, arch: GuestArch, options: LaunchOptions): Promise<PreparedLaunch> {
    const { config, notice } = await this.checkRoom(name, defined);
    await this.ensureEfiVars(name);
    const shares = await this.checkShares(name, config);
    const seedDir = config.cloudInit ? await this.writeSeed(name, config) : undefined;
    const qemu = await this.qemuOnHost(arch, await this.deps.settings.read());
    const vm = this.deps.paths.vm(name);
    const argv = buildQemuArgv(
      {
        name,
        arch,
        memoryMb: config.memoryMb,
        cpus: config.cpus,
        disk: vm.disk,
        efiVars: vm.efiVars,
        firmwareCode: qemu.firmwareCode,
        qmpSocket: vm.qmpSocket,
        consolePipe: vm.consolePipe.base,
        consoleLog: vm.consoleLog,
        pidFile: vm.pid,
        sshPort: config.sshPort,
        ports: config.ports,
        proxySocket: vm.proxySocket,
        dnsSocket: vm.dnsSocket,
        netcat: qemu.netcat,
        display: options.display,
        cloudInitSeedDir: seedDir,
        shares,
        startPaused: options.startPaused,
      },
      qemu,
    );
    return { request: { binary: qemu.binary, argv, accel: qemu.accel }, warning: qemu.warning, notice };
  }

  /**
   * checkRoom refuses a start the host has no memory or no free forwarded port
   * for. The SSH port is Xray's choice, not the user's: when another program
   * holds it, the VM moves to the first free one, kept in vm.toml, and the
   * returned notice says so. It returns the settings to start with.
   */
  private async checkRoom(name: string, config: VmConfig): Promise<{ config: VmConfig; notice: string | null }> {
    const available = await this.room.availableMemoryMb();
    if (config.memoryMb > available) {
      throw new XrayError('resource', `VM "${name}" needs ${config.memoryMb} MB but only ${available} MB of memory is free; stop other VMs or lower its memory.`);
    }
    for (const port of config.ports.map((p) => p.host)) {
      if (!(await this.room.isPortFree(port))) {
        const holder = await this.room.portHolder(port);
        throw new XrayError('in-use', `Port ${port} on 127.0.0.1, which VM "${name}" forwards, is busy${holder ? ` (held by ${holder})` : ''}; free it or change the VM's ports.`);
      }
    }
    if (await this.room.isPortFree(config.sshPort)) return { config, notice: null };
    const busy = config.sshPort;
    const holder = await this.room.portHolder(busy);
    const others = (await this.deps.vms.list()).filter(isConfig).filter((other) => other.name !== name);
    const port = await pickSshPort(others, config.ports, (candidate) => this.room.isPortFree(candidate));
    const moved = await this.deps.vms.update(name, (cfg) => {
      cfg.sshPort = port;
    });
    const notice = `SSH port ${busy} is busy${holder ? ` (held by ${holder})` : ''}, so VM "${name}" now uses ${port}; if you copied its "xray ssh-config" block, copy it again.`;
    return { config: moved, notice };
  }

  /**
   * checkShares checks each shared folder again as the VM starts (it may be
   * gone, or now be a link to somewhere refused) and gives QEMU its real path.
   */
  private async checkShares(name: string, config: VmConfig): Promise<LaunchShare[]> {
    const shares: LaunchShare[] = [];
    for (const share of config.shares ?? []) {
      try {
        const hostPath = await checkHostFolder(share.hostPath, { xrayHome: this.deps.paths.root });
        shares.push({ tag: shareTag(share), hostPath, readOnly: share.readOnly });
      } catch (err) {
        const why = (err as Error).message.replace(/\.$/, '');
        throw new XrayError(err instanceof XrayError ? err.code : 'invalid-argument', `VM "${name}" cannot start with its share at ${share.guestPath}: ${why}, or remove the share with "xray share remove ${name} ${share.guestPath}".`);
      }
    }
    return shares;
  }

  /** ensureEfiVars converts an older home's raw efivars.fd to qcow2, and refuses a VM with no store at all. */
  private async ensureEfiVars(name: string): Promise<void> {
    const vm = this.deps.paths.vm(name);
    const has = async (path: string) => stat(path).then(() => true, () => false);
    if (!(await has(vm.efiVars)) && (await has(vm.legacyEfiVars))) {
      await migrateLegacyEfiVars(vm.legacyEfiVars, vm.efiVars, this.deps.qemuImg);
    }
    if (!(await has(vm.efiVars))) {
      throw new XrayError('not-found', `VM "${name}" has no UEFI variable store (${vm.efiVars}); recreate the VM.`);
    }
  }

  /** writeSeed gives a cloud-init guest its user, key and host name (NoCloud). */
  private async writeSeed(name: string, config: VmConfig): Promise<string> {
    const vm = this.deps.paths.vm(name);
    const target = await this.deps.sshTarget(name);
    const publicKey = (await readFile(`${target.keyPath}.pub`, 'utf8')).trim();
    await rm(vm.cloudInitSeed, { recursive: true, force: true });
    await writeNoCloudSeed(vm.cloudInitSeed, {
      instanceId: `xray-${name}`,
      hostname: hostnameForVm(name),
      user: config.sshUser,
      authorizedKeys: [publicKey],
      ...guestUid(),
    });
    return vm.cloudInitSeed;
  }

  private async probe(arch: GuestArch, settings: GlobalSettings): Promise<QemuOnHost> {
    const platform = osPlatform();
    const binary = findQemuBinaries({ env: this.env }).systemFor(arch);
    const firmware = findFirmware(arch, { overrides: settings.firmware, qemuBinary: binary });
    const [facts, netcat] = await Promise.all([this.factsOf(binary), this.findNetcat()]);
    const choice = await probeAccelerator({
      platform,
      arch,
      hostArch: hostArch(),
      binary,
      accelHelp: facts.accelerators,
      probeKvm: defaultKvmProbe(binary, arch),
    });
    return { platform, binary, firmwareCode: firmware.code, netcat, accel: choice.accel, qemuVersion: facts.version, warning: choice.warning };
  }

  private factsOf(binary: string): Promise<QemuFacts> {
    let found = this.facts.get(binary);
    if (!found) {
      found = readQemuFacts(binary);
      found.catch(() => this.facts.delete(binary));
      this.facts.set(binary, found);
    }
    return found;
  }

  private findNetcat(): Promise<string> {
    if (!this.netcat) {
      this.netcat = findNetcat({ env: this.env });
      this.netcat.catch(() => {
        this.netcat = null;
      });
    }
    return this.netcat;
  }
}

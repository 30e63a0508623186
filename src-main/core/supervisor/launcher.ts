// Runs in: plain Node (core).
import { platform as osPlatform } from 'node:os';
import type { GuestArch } from '../../shared/models';
import { hostArch } from '../host';
import type { HomePaths } from '../paths';
import {
  buildQemuArgv,
  defaultKvmProbe,
  findFirmware,
  findNetcat,
  findQemuBinaries,
  probeAccelerator,
  readQemuFacts,
  type DisplayMode,
  type QemuFacts,
} from '../qemu';
import type { SettingsStore } from '../store/settings';
import type { VmConfig } from '../store/vm-config';
import type { LaunchRequest } from './machine';

export interface LaunchOptions {
  readonly display: DisplayMode;
  readonly startPaused: boolean;
  readonly cloudInitSeedDir?: string;
}

export interface PreparedLaunch {
  readonly request: LaunchRequest;
  /** warning is shown to the user (e.g. why the VM runs under slow TCG). */
  readonly warning: string | null;
}

/**
 * Launcher turns a VM definition into a QEMU command line, probing the host
 * once per process: binaries, firmware, QEMU version and the accelerator.
 */
export class Launcher {
  private readonly facts = new Map<string, Promise<QemuFacts>>();
  private netcat: Promise<string> | null = null;

  constructor(
    private readonly paths: HomePaths,
    private readonly settings: SettingsStore,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async prepare(name: string, config: VmConfig, arch: GuestArch, options: LaunchOptions): Promise<PreparedLaunch> {
    const platform = osPlatform();
    const binary = findQemuBinaries({ env: this.env }).systemFor(arch);
    const settings = await this.settings.read();
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
    const vm = this.paths.vm(name);
    const argv = buildQemuArgv(
      {
        name,
        arch,
        memoryMb: config.memoryMb,
        cpus: config.cpus,
        disk: vm.disk,
        efiVars: vm.efiVars,
        firmwareCode: firmware.code,
        qmpSocket: vm.qmpSocket,
        consoleLog: vm.consoleLog,
        pidFile: vm.pid,
        sshPort: config.sshPort,
        ports: config.ports,
        proxySocket: vm.proxySocket,
        dnsSocket: vm.dnsSocket,
        netcat,
        display: options.display,
        cloudInitSeedDir: options.cloudInitSeedDir,
        startPaused: options.startPaused,
      },
      { platform, accel: choice.accel, qemuVersion: facts.version },
    );
    return { request: { binary, argv, accel: choice.accel }, warning: choice.warning };
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

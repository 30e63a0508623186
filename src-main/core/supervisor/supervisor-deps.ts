// Runs in: plain Node (core).
// What the supervisor is given: its dependencies on the rest of the core, and the parts tests replace.
import type { XrayEvent } from '../../shared/contract';
import type { BaseInfo, GlobalSettings, VmSummary } from '../../shared/models';
import type { RuleStore } from '../firewall/rule-store';
import type { QemuImg } from '../images';
import type { HomePaths } from '../paths';
import type { SshSession, SshTarget } from '../ssh';
import type { VmStore } from '../store/vm-store';
import type { FirewallHostDeps } from './firewalls';
import type { Login } from './guest-link';
import type { Launcher } from './launcher';
import type { QemuProcesses } from './qemu-process';
import type { StopTimings } from './stop';

/** SupervisorDeps is what the supervisor needs from the rest of the core; supervisorDeps (host.ts) takes them from a service. */
export interface SupervisorDeps {
  readonly paths: HomePaths;
  readonly vms: Pick<VmStore, 'read' | 'list' | 'update'>;
  /** summary is a VM as its files describe it; the supervisor overlays what runs. */
  readonly summary: (vm: string) => Promise<VmSummary>;
  readonly bases: { list(): Promise<BaseInfo[]> };
  readonly settings: { read(): Promise<GlobalSettings> };
  readonly ruleStore: RuleStore;
  readonly secretBindings: FirewallHostDeps['secretBindings'];
  readonly secrets: FirewallHostDeps['secrets'];
  readonly qemuImg: QemuImg;
  readonly emit: (event: XrayEvent) => void;
  readonly sshTarget: (vm: string) => Promise<SshTarget>;
  /** runStartHooks runs a VM's start hooks over the session Xray logged in with. */
  readonly runStartHooks: (vm: string, session: SshSession) => Promise<unknown>;
}

/** SupervisorOptions replace, for tests, what the supervisor would otherwise make itself. */
export interface SupervisorOptions {
  // For testing: the guest's SSH, QEMU, the launcher and the stop's stages.
  readonly login?: Login;
  readonly qemu?: QemuProcesses;
  readonly launcher?: Pick<Launcher, 'prepare'>;
  /** isQemuFor checks that a pid from a pid file is that VM's QEMU before adoption. */
  readonly isQemuFor?: (pid: number, qmpSocket: string) => Promise<boolean>;
  readonly stopTimings?: Omit<StopTimings, 'powerButtonMs'>;
}

// Runs in: anywhere (plain data). What a VM, its disks, bases, snapshots,
// ports and shares look like to every surface; models.ts re-exports it.
import type { Accelerator, BootProblem, GuestArch, StopMethod, VmStateName } from './enums';

/** PortMapping forwards a host TCP port on 127.0.0.1 to a guest port. */
export interface PortMapping {
  readonly host: number;
  readonly guest: number;
}

/** Share is a host folder a VM sees over virtio-9p, mounted at guestPath by the built-in boot hook. */
export interface Share {
  /** hostPath is the folder's real path on the host (symbolic links resolved when it was added). */
  readonly hostPath: string;
  readonly guestPath: string;
  readonly readOnly: boolean;
}

/** ShareChange is what share.add and share.remove answer: the share, and whether the running VM waits for its next start. */
export interface ShareChange {
  readonly share: Share;
  /** vmRunning: the VM runs now, so the change is seen from its next start. */
  readonly vmRunning: boolean;
}

/** CrashReport is how a VM's QEMU ended when nobody stopped it: when, its exit, and the end of its console and stderr. */
export interface CrashReport {
  readonly at: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly consoleTail: readonly string[];
  readonly stderrTail: readonly string[];
}

/**
 * ConsoleScrollback is the end of a VM's serial console and where it stands:
 * `stream` names the live console of the QEMU that runs now (null when none
 * runs: `text` is then the end of console.log) and `end` is the position
 * just after `text` in that stream, where console.output events go on.
 */
export interface ConsoleScrollback {
  readonly stream: string | null;
  readonly end: number;
  readonly text: string;
}

/**
 * BootDiagnosis is why a VM still booting has not let Xray log in within its
 * boot_timeout, from what Xray can see: its serial console, its SSH port and
 * what its sshd said to Xray's key. The VM keeps running and Xray keeps trying.
 */
export interface BootDiagnosis {
  readonly problem: BootProblem;
  /** message is the one sentence a person can act on. */
  readonly message: string;
  readonly at: string;
  /** consoleTail is the end of this boot's serial console, escape codes removed. */
  readonly consoleTail: readonly string[];
}

/** VmSummary is a VM as lists show it: its settings, state and what its firewall is doing. */
export interface VmSummary {
  readonly name: string;
  readonly state: VmStateName;
  readonly base: string;
  readonly arch: GuestArch;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly sshPort: number;
  readonly sshUser: string;
  readonly ports: readonly PortMapping[];
  readonly pid: number | null;
  readonly accelerator: Accelerator | null;
  readonly firewallActive: boolean;
  readonly openConnections: number;
  readonly pendingPrompts: number;
  readonly crash: CrashReport | null;
  /** diagnosis says why a booting VM has not answered once its boot_timeout passed; null otherwise. */
  readonly diagnosis: BootDiagnosis | null;
  /** configError is set when vm.toml cannot be read; the VM still lists. */
  readonly configError: string | null;
}

/** VmStopResult is what vm.stop answers: the VM, and how it ended (null when it was not running). */
export interface VmStopResult extends VmSummary {
  readonly stoppedBy: StopMethod | null;
}

/** DiskChainEntry is one disk image in a VM's backing chain, as qemu-img reports it. */
export interface DiskChainEntry {
  readonly filename: string;
  readonly format: string;
  readonly virtualSize: number;
  readonly actualSize: number;
  readonly backingFilename: string | null;
}

/** VmInfo is everything vm.info shows of one VM. */
export interface VmInfo {
  readonly summary: VmSummary;
  readonly config: Record<string, unknown>;
  readonly diskChain: readonly DiskChainEntry[];
  readonly snapshots: readonly SnapshotInfo[];
  readonly autoSnapshots: AutoSnapshotsInfo;
}

/** BaseInfo is an imported base image VMs are created from, and which VMs use it. */
export interface BaseInfo {
  readonly name: string;
  readonly arch: GuestArch;
  readonly virtualSize: number;
  readonly fileSize: number;
  readonly linked: boolean;
  readonly source: string | null;
  readonly importedAt: string | null;
  readonly cloudInit: boolean;
  readonly usedBy: readonly string[];
}

/** SnapshotInfo is one snapshot of a VM's disk (and memory, when it was taken running). */
export interface SnapshotInfo {
  readonly name: string;
  readonly date: string;
  readonly vmStateSize: number;
  readonly hasMemory: boolean;
  readonly description: string | null;
  /** auto is true for a snapshot Xray took by itself (after the first boot, before a risky hook); only those are pruned. */
  readonly auto?: boolean;
}

/** AutoSnapshotsInfo is whether a VM takes automatic snapshots, whether that follows config.toml, and how many it keeps. */
export interface AutoSnapshotsInfo {
  readonly enabled: boolean;
  /** fromDefault is true when vm.toml says nothing and config.toml's auto_snapshots decides. */
  readonly fromDefault: boolean;
  readonly keep: number;
}

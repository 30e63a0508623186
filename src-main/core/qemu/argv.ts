// Runs in: plain Node (core).
import type { Accelerator, GuestArch, PortMapping } from '../../shared/models';
import { versionAtLeast, type QemuVersion } from './version';

export type DisplayMode = 'none' | 'cocoa' | 'gtk' | 'sdl';

/** LaunchShare is a shared folder as QEMU is given it: its checked real path, its mount tag, and whether it is read-only. */
export interface LaunchShare {
  readonly tag: string;
  readonly hostPath: string;
  readonly readOnly: boolean;
}

/** LaunchSpec is everything about one VM start that ends up on QEMU's command line. */
export interface LaunchSpec {
  readonly name: string;
  readonly arch: GuestArch;
  readonly memoryMb: number;
  readonly cpus: number;
  /** disk is the VM's qcow2 overlay. */
  readonly disk: string;
  /** efiVars is the VM's qcow2 UEFI variable store (see VmPaths.efiVars for why qcow2). */
  readonly efiVars: string;
  readonly firmwareCode: string;
  readonly qmpSocket: string;
  /** consolePipe is the serial console's pipe chardev (base.in a FIFO for input, base.out a link to /dev/null); see makeConsolePipe. */
  readonly consolePipe: string;
  readonly consoleLog: string;
  readonly pidFile: string;
  readonly sshPort: number;
  readonly ports: readonly PortMapping[];
  readonly proxySocket: string;
  readonly dnsSocket: string;
  /** netcat is an `nc` with -U (see findNetcat). */
  readonly netcat: string;
  readonly display: DisplayMode;
  readonly cloudInitSeedDir?: string;
  /** shares are host folders exported over virtio-9p (the boot hook mounts them by tag). */
  readonly shares?: readonly LaunchShare[];
  readonly startPaused?: boolean;
}

/** HostFacts is what was probed about the host and its QEMU. */
export interface HostFacts {
  readonly platform: NodeJS.Platform;
  readonly accel: Accelerator;
  readonly qemuVersion: QemuVersion;
}

/** GUEST_GATEWAY_IP is the address inside the guest's slirp network where the host's services appear. */
export const GUEST_GATEWAY_IP = '10.0.2.100';
export const GUEST_PROXY_PORT = 1080;
export const GUEST_DNS_PORT = 53;

/**
 * Block node names let the QMP side name drives in snapshot-save/load/delete
 * (which take node names, not drive ids). They must differ from drive ids.
 */
export const DISK_DRIVE_ID = 'disk0';
export const DISK_NODE_NAME = 'disk';
export const EFIVARS_NODE_NAME = 'efivars';

/** USER_NETDEV_ID names the VM's one user-networking netdev, where hostfwd_add and hostfwd_remove change forwards live. */
export const USER_NETDEV_ID = 'net0';

/**
 * qemuOptValue escapes a value for QEMU's `key=value,…` option syntax, where a
 * literal comma is written twice. Paths from users (home dirs, VM dirs) may hold commas.
 */
export function qemuOptValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/**
 * shellQuote quotes one word for the command line guestfwd's `cmd:` runs;
 * libslirp splits it with g_shell_parse_argv, which follows POSIX sh quoting.
 */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * buildQemuArgv builds the complete QEMU argument list (without the binary)
 * for one VM. It is pure: the caller has validated the spec and probed the host.
 */
export function buildQemuArgv(spec: LaunchSpec, host: HostFacts): string[] {
  return [
    ...identityArgs(spec, host),
    ...machineArgs(spec, host),
    ...firmwareArgs(spec),
    ...diskArgs(spec),
    ...shareArgs(spec),
    ...networkArgs(spec),
    ...controlArgs(spec),
    ...displayArgs(spec),
    // virtio-rng: guests block on entropy at boot (sshd key generation) without it.
    '-device', 'virtio-rng-pci',
    ...(spec.startPaused ? ['-S'] : []),
  ];
}

/**
 * identityArgs: -nodefaults and -no-user-config so that only the devices listed
 * here exist (no stray NIC bypassing the firewall, no host-wide config files);
 * the name shows in window titles and, on Linux, as the process name in ps.
 */
function identityArgs(spec: LaunchSpec, host: HostFacts): string[] {
  const name = qemuOptValue(`xray-${spec.name}`);
  const processName = host.platform === 'linux' ? `,process=${name}` : '';
  return ['-nodefaults', '-no-user-config', '-name', `${name}${processName}`];
}

/**
 * machineArgs: aarch64 uses `virt` with a GICv3 (GICv2 stops at 8 vCPUs),
 * the host's own GIC under KVM; QEMU before 7.0 did not size the virt memory
 * map to the IPA range HVF offers, so it needs highmem=off there. x86_64 uses
 * q35 (PCIe, what OVMF expects). Under hvf/kvm the guest sees the host CPU;
 * under TCG `max` emulates every feature QEMU has. TCG is left to choose its
 * threading: QEMU turns multi-threaded TCG on where the host's memory model
 * can honour the guest's and refuses silently-unsafe combinations otherwise.
 */
function machineArgs(spec: LaunchSpec, host: HostFacts): string[] {
  const hardware = host.accel !== 'tcg';
  let machine: string;
  if (spec.arch === 'aarch64') {
    const gic = host.accel === 'kvm' ? 'host' : '3';
    const oldHvf = host.accel === 'hvf' && !versionAtLeast(host.qemuVersion, { major: 7, minor: 0, micro: 0 });
    machine = `virt,gic-version=${gic}${oldHvf ? ',highmem=off' : ''}`;
  } else {
    machine = 'q35';
  }
  return [
    '-machine', machine,
    '-accel', host.accel,
    '-cpu', hardware ? 'host' : 'max',
    '-smp', String(spec.cpus),
    '-m', `${spec.memoryMb}M`,
  ];
}

/**
 * firmwareArgs: UEFI from two pflash units, the shared code read-only and the
 * per-VM variable store writable. The store is qcow2 so snapshot-save accepts
 * it (QEMU refuses a live snapshot while a writable raw drive is attached) and
 * the variables are snapshotted with the disk.
 */
function firmwareArgs(spec: LaunchSpec): string[] {
  return [
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${qemuOptValue(spec.firmwareCode)}`,
    '-drive', `if=pflash,format=qcow2,unit=1,node-name=${EFIVARS_NODE_NAME},file=${qemuOptValue(spec.efiVars)}`,
  ];
}

/**
 * diskArgs: the overlay on virtio-blk, first in boot order, with discard so
 * fstrim in the guest shrinks the overlay. The cloud-init seed is a read-only
 * FAT view of a host directory labelled "cidata" (NoCloud finds it by label);
 * read-only drives are exempt from snapshots.
 */
function diskArgs(spec: LaunchSpec): string[] {
  const args = [
    '-drive', `if=none,id=${DISK_DRIVE_ID},node-name=${DISK_NODE_NAME},format=qcow2,discard=unmap,file=${qemuOptValue(spec.disk)}`,
    '-device', `virtio-blk-pci,drive=${DISK_DRIVE_ID},bootindex=0`,
  ];
  if (spec.cloudInitSeedDir !== undefined) {
    args.push(
      '-drive', `if=none,id=seed,format=raw,read-only=on,file.driver=vvfat,file.label=cidata,file.dir=${qemuOptValue(spec.cloudInitSeedDir)}`,
      '-device', 'virtio-blk-pci,drive=seed',
    );
  }
  return args;
}

/**
 * SHARE_SECURITY_MODEL is how QEMU keeps what the guest sets on shared files
 * (owner, mode, special files, symbolic links): in extended attributes of
 * ordinary host files, so nothing the guest creates becomes a device node,
 * a setuid file or a symbolic link on the host. docs/ARCHITECTURE.md
 * ("Shared folders") has the measurements behind it.
 */
export const SHARE_SECURITY_MODEL = 'mapped-xattr';

/**
 * shareArgs: one virtio-9p device per shared folder, on QEMU's `local`
 * backend, which resolves every name under the export without following
 * symbolic links. multidevs=remap keeps inode numbers unique when the
 * folder spans several host filesystems; readonly=on makes QEMU refuse
 * writes whatever the guest mounts. The device id lets QMP find the tag.
 */
function shareArgs(spec: LaunchSpec): string[] {
  return (spec.shares ?? []).flatMap((share, i) => [
    '-fsdev', `local,id=share${i},path=${qemuOptValue(share.hostPath)},security_model=${SHARE_SECURITY_MODEL},multidevs=remap${share.readOnly ? ',readonly=on' : ''}`,
    '-device', `virtio-9p-pci,id=share${i}-dev,fsdev=share${i},mount_tag=${share.tag}`,
  ]);
}

/**
 * networkArgs: exactly one NIC on slirp with restrict=on, so the guest reaches
 * nothing but what is forwarded: SSH and the user's ports from 127.0.0.1 only,
 * and two guestfwd services that each connection turns into `nc -U` to the
 * VM's proxy and DNS sockets on the host, where the firewall decides.
 * IPv6 is off: redsocks carries IPv4 only, and without an IPv6 address or
 * route in the guest a connection to an IPv6 address fails at once
 * ("Network is unreachable") and name lookups prefer IPv4, instead of
 * waiting for slirp to drop packets it will never deliver.
 */
function networkArgs(spec: LaunchSpec): string[] {
  const forward = (host: number, guest: number) => `hostfwd=tcp:127.0.0.1:${host}-:${guest}`;
  const toSocket = (port: number, socket: string) =>
    `guestfwd=tcp:${GUEST_GATEWAY_IP}:${port}-cmd:${shellQuote(spec.netcat)} -U ${shellQuote(socket)}`;
  const options = [
    'user',
    `id=${USER_NETDEV_ID}`,
    'restrict=on',
    'ipv6=off',
    forward(spec.sshPort, 22),
    ...spec.ports.map((port) => forward(port.host, port.guest)),
    toSocket(GUEST_PROXY_PORT, spec.proxySocket),
    toSocket(GUEST_DNS_PORT, spec.dnsSocket),
  ];
  return ['-netdev', options.map(qemuOptValue).join(','), '-device', `virtio-net-pci,netdev=${USER_NETDEV_ID}`];
}

/**
 * controlArgs: QMP on a Unix socket that does not wait for a client (the
 * supervisor connects after spawn and may reconnect after an app restart);
 * the serial console as a pipe chardev whose input is a FIFO the supervisor
 * writes typed keys to and whose output goes to /dev/null, every byte
 * appended to the log that crash reports quote and the terminal is read from
 * (a write to /dev/null never fails, so QEMU never drops a byte, and the log
 * gets every one, with or without a supervisor); a pid file so a restarted supervisor can adopt the running VM.
 */
function controlArgs(spec: LaunchSpec): string[] {
  return [
    '-chardev', `socket,id=qmp,server=on,wait=off,path=${qemuOptValue(spec.qmpSocket)}`,
    '-mon', 'chardev=qmp,mode=control',
    '-chardev', `pipe,id=serial0,path=${qemuOptValue(spec.consolePipe)},logfile=${qemuOptValue(spec.consoleLog)},logappend=on`,
    '-serial', 'chardev:serial0',
    '-pidfile', spec.pidFile,
  ];
}

/**
 * displayArgs: headless by default; a window gets a GPU the guest's firmware
 * and kernel drive without extra drivers (virtio-gpu on aarch64, which has no
 * VGA; virtio-vga on x86, which also works as plain VGA) and USB keyboard and
 * tablet, the tablet so the pointer tracks the host's absolutely.
 */
function displayArgs(spec: LaunchSpec): string[] {
  if (spec.display === 'none') return ['-display', 'none'];
  return [
    '-display', spec.display,
    '-device', spec.arch === 'aarch64' ? 'virtio-gpu-pci' : 'virtio-vga',
    '-device', 'qemu-xhci,id=usb',
    '-device', 'usb-kbd,bus=usb.0',
    '-device', 'usb-tablet,bus=usb.0',
  ];
}

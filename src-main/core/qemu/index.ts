// Runs in: plain Node (core).
// The QEMU layer: finding binaries and firmware, choosing the accelerator, building argv.
export {
  AcceleratorProber,
  defaultKvmProbe,
  kvmProbeArgv,
  probeAccelerator,
  qemuComplaint,
  type AccelChoice,
  type AccelOptions,
  type KvmProbe,
  type KvmProbeOptions,
} from './accel';
export {
  DISK_DRIVE_ID,
  DISK_NODE_NAME,
  EFIVARS_NODE_NAME,
  GUEST_DNS_PORT,
  GUEST_GATEWAY_IP,
  GUEST_PROXY_PORT,
  SHARE_SECURITY_MODEL,
  USER_NETDEV_ID,
  buildQemuArgv,
  qemuOptValue,
  shellQuote,
  type DisplayMode,
  type HostFacts,
  type LaunchShare,
  type LaunchSpec,
} from './argv';
export {
  HOMEBREW_BIN_DIRS,
  QEMU_DIR_ENV,
  findExecutable,
  findNetcat,
  findQemuBinaries,
  qemuSearchDirs,
  supportsUnixSockets,
  type NetcatOptions,
  type QemuBinaries,
  type SearchOptions,
} from './binaries';
export { execCollect, isExecutableFile, isReadableFile, type ExecFn, type ExecResult, type ExistsFn } from './exec';
export {
  AARCH64_PFLASH_BYTES,
  efiVarsVirtualSize,
  findFirmware,
  firmwareCandidates,
  firmwareOverrideKeys,
  type Firmware,
  type FirmwareOptions,
} from './firmware';
export {
  MIN_QEMU_VERSION,
  formatVersion,
  parseAccelHelp,
  parseQemuVersion,
  readQemuFacts,
  versionAtLeast,
  type QemuFacts,
  type QemuVersion,
} from './version';
export { makeConsolePipe } from './console-pipe';

// Runs in: plain Node (core).
import type { PortMapping, Share } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { formatPortMapping, requirePortMapping } from '../../shared/vm';
import type { TomlTable } from './toml-file';
import { entrySchemas, isVmConfigKey, vmConfigProblem } from './vm-config-schema';

/**
 * vm-config maps vms/NAME/vm.toml to a typed VmConfig and back. The on-disk
 * keys are the original Python tool's (snake_case), so its files load
 * unchanged; keys Xray does not know ride along in `extra` and are written back.
 */

/** FirewallAction is what a rule in [firewall] does with a connection. */
export type FirewallAction = 'allow' | 'deny';

/**
 * FirewallEntry is the value under one target key of [firewall]. The Python
 * tool wrote a bare action; Xray adds a table form for rules that expire.
 */
export type FirewallEntry = FirewallAction | { action: FirewallAction; expires?: string };

/**
 * SecretBindingEntry is one table under [secret_bindings]: the hosts, the
 * header, the format with `{}` where the value goes, the placeholder the
 * guest holds and the variable it is in. A value is never stored here.
 */
export interface SecretBindingEntry {
  hosts: string[];
  header: string;
  format: string;
  placeholder: string;
  env: string;
}

/** SnapshotEntry is one table under [snapshots]: what Xray knows of a snapshot besides the disk's own record. */
export interface SnapshotEntry {
  description: string;
  auto?: boolean;
}

/** VmConfig is a VM's vm.toml, typed. */
export interface VmConfig {
  base: string;
  memoryMb: number;
  cpus: number;
  ports: PortMapping[];
  sshPort: number;
  sshUser: string;
  firewallConfigured: boolean;
  firstBootCompleted: boolean;
  /** firewall maps a target string ("1.2.3.4:443", "*.example.com") to its entry. */
  firewall: Record<string, FirewallEntry>;
  plugins: Record<string, Record<string, unknown>>;
  /** snapshots holds each snapshot's description, and `auto` for one Xray took by itself (only those are pruned). */
  snapshots: Record<string, SnapshotEntry>;
  /** autoSnapshots turns this VM's automatic snapshots on or off; null follows config.toml's auto_snapshots. */
  autoSnapshots: boolean | null;
  /** secretBindings maps a secret's name to where the egress proxy may send it (absent: none); no value is ever here. */
  secretBindings?: Record<string, SecretBindingEntry>;
  /** cloudInit gives the VM a NoCloud seed at each start; only an explicit `cloud_init = false` turns it off. */
  cloudInit: boolean;
  /** shares are host folders the VM sees over virtio-9p ([[shares]]: host, guest, read_only); absent: none. */
  shares?: Share[];
  /** extra holds every top-level key Xray does not know, preserved verbatim. */
  extra: TomlTable;
}

/**
 * VM_CONFIG_DEFAULTS are what a vm.toml without these keys means: the
 * original tool's defaults, so its files load as they did. New VMs get
 * vm.defaults (fitted to the host) written out in full.
 */
export const VM_CONFIG_DEFAULTS = {
  memoryMb: 8192,
  cpus: 4,
  sshUser: 'ubuntu',
} as const;


/** parseVmConfig validates a parsed vm.toml; a bad value is a `corrupt` error naming `path` and the key. */
export function parseVmConfig(raw: TomlTable, path: string): VmConfig {
  const problem = vmConfigProblem(raw);
  if (problem) throw new XrayError('corrupt', `${path}: ${problem}; fix the file.`);
  const extra: TomlTable = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!isVmConfigKey(key)) extra[key] = value;
  }
  return {
    base: raw.base as string,
    memoryMb: (raw.memory as number | undefined) ?? VM_CONFIG_DEFAULTS.memoryMb,
    cpus: (raw.cpus as number | undefined) ?? VM_CONFIG_DEFAULTS.cpus,
    ports: ((raw.ports as string[] | undefined) ?? []).map(requirePortMapping),
    sshPort: raw.ssh_port as number,
    sshUser: (raw.ssh_user as string | undefined) ?? VM_CONFIG_DEFAULTS.sshUser,
    firewallConfigured: (raw.firewall_configured as boolean | undefined) ?? false,
    firstBootCompleted: (raw.first_boot_completed as boolean | undefined) ?? false,
    firewall: mapValues((raw.firewall as TomlTable | undefined) ?? {}, (entry) => entrySchemas().firewallEntry.parse(entry)),
    plugins: mapValues((raw.plugins as TomlTable | undefined) ?? {}, (plugin) => ({ ...(plugin as TomlTable) })),
    snapshots: mapValues((raw.snapshots as TomlTable | undefined) ?? {}, (snapshot) => ({ ...(snapshot as unknown as SnapshotEntry) })),
    autoSnapshots: (raw.auto_snapshots as boolean | undefined) ?? null,
    ...(raw.secret_bindings !== undefined ? { secretBindings: mapValues(raw.secret_bindings as TomlTable, (binding) => entrySchemas().secretBinding.parse(binding)) } : {}),
    cloudInit: (raw.cloud_init as boolean | undefined) ?? true,
    shares: ((raw.shares as TomlTable[] | undefined) ?? []).map((share) => {
      const entry = entrySchemas().shareEntry.parse(share);
      return { hostPath: entry.host, guestPath: entry.guest, readOnly: entry.read_only ?? false };
    }),
    extra,
  };
}

/**
 * serializeVmConfig is parseVmConfig's inverse: it writes the Python tool's
 * keys, Xray's additions only when they say something, and `extra` verbatim.
 * The [firewall] table is always written because the Python tool expects it.
 */
export function serializeVmConfig(cfg: VmConfig): TomlTable {
  const out: TomlTable = {
    ...cfg.extra,
    base: cfg.base,
    memory: cfg.memoryMb,
    cpus: cfg.cpus,
    ports: cfg.ports.map(formatPortMapping),
    ssh_port: cfg.sshPort,
    ssh_user: cfg.sshUser,
    firewall_configured: cfg.firewallConfigured,
    first_boot_completed: cfg.firstBootCompleted,
    ...(cfg.autoSnapshots === null ? {} : { auto_snapshots: cfg.autoSnapshots }),
    firewall: mapValues(cfg.firewall, (entry) => (typeof entry === 'string' ? entry : { ...entry })),
  };
  if (!cfg.cloudInit) out.cloud_init = false;
  if (Object.keys(cfg.plugins).length > 0) out.plugins = mapValues(cfg.plugins, (plugin) => ({ ...plugin }));
  if (Object.keys(cfg.snapshots).length > 0) out.snapshots = mapValues(cfg.snapshots, (snapshot) => ({ ...snapshot }));
  if (cfg.shares && cfg.shares.length > 0) out.shares = cfg.shares.map((share) => ({ host: share.hostPath, guest: share.guestPath, read_only: share.readOnly }));
  if (cfg.secretBindings && Object.keys(cfg.secretBindings).length > 0) out.secret_bindings = mapValues(cfg.secretBindings, (binding) => ({ ...binding, hosts: [...binding.hosts] }));
  return out;
}

function mapValues<V, T>(source: Record<string, V>, fn: (value: V) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of Object.entries(source)) out[key] = fn(value);
  return out;
}

// Runs in: plain Node (core).
import { readFileSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import * as z from 'zod';
import type { PortMapping, Share } from '../../shared/models';
import { XrayError, errorMessage } from '../../shared/errors';
import { validateName } from '../names';
import { nameProblem } from '../../shared/names';
import { guestPathProblem } from '../../shared/shares';
import { PLACEHOLDER_PATTERN, envNameProblem, formatProblem, headerProblem } from '../../shared/secrets';
import { VM_LIMITS, formatPortMapping, parsePortMapping, requirePortMapping } from '../../shared/vm';
import type { HomePaths } from '../paths';
import type { FileLockOptions } from './file-lock';
import { describeValue, parseToml, readToml, updateToml, writeToml, type TomlTable } from './toml-file';

/**
 * vm-config maps vms/NAME/vm.toml to a typed VmConfig and back. The on-disk
 * keys are the original Python tool's (snake_case), so its files load
 * unchanged; keys Xray does not know ride along in `extra` and are written back.
 */

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

const port = z.number().int().min(VM_LIMITS.port.min).max(VM_LIMITS.port.max);
const flag = z.boolean();
const action = z.enum(['allow', 'deny']);
const isoDate = z
  .union([z.string(), z.date()])
  .transform((value) => (value instanceof Date ? value.toISOString() : value))
  .refine((value) => !Number.isNaN(Date.parse(value)));
const firewallEntry = z.union([action, z.looseObject({ action, expires: isoDate.optional() })]);
const table = z.record(z.string(), z.unknown()).refine((value) => !(value instanceof Date) && !Array.isArray(value));
/**
 * secretBinding reads a [secret_bindings.NAME] table. Keys it does not know
 * are dropped on the next write rather than kept: nothing but these may sit
 * beside a binding, so a value pasted there by hand does not stay.
 */
const secretBinding = z.object({
  hosts: z.array(z.string()).min(1),
  header: z.string().refine((v) => headerProblem(v) === null),
  format: z.string().refine((v) => formatProblem(v) === null),
  placeholder: z.string().regex(PLACEHOLDER_PATTERN),
  env: z.string().refine((v) => envNameProblem(v) === null),
});

/** shareEntry reads one [[shares]] table; the host folder's own checks run when the VM starts. */
const shareEntry = z.object({
  host: z.string().refine((v) => v.startsWith('/')),
  guest: z.string().refine((v) => guestPathProblem(v) === null),
  read_only: flag.optional(),
});

/**
 * FIELDS lists every top-level key Xray knows, the zod schema its value must
 * pass, and the words that finish "key K must be …" when it does not.
 */
const FIELDS = {
  base: { schema: z.string().refine((v) => nameProblem(v) === null), expected: 'the name of a base image (letters, digits, ".", "_", "-")' },
  memory: { schema: z.number().int().positive(), expected: 'a positive whole number of megabytes' },
  cpus: { schema: z.number().int().positive().max(1024), expected: 'a whole number of CPUs from 1 to 1024' },
  ports: { schema: z.array(z.string()), expected: 'a list of "HOST:GUEST" strings such as "8080:80"' },
  ssh_port: { schema: port, expected: `a port number from ${VM_LIMITS.port.min} to ${VM_LIMITS.port.max}` },
  ssh_user: { schema: z.string().regex(/^[A-Za-z0-9._-]+$/), expected: 'a user name (letters, digits, ".", "_", "-")' },
  firewall_configured: { schema: flag, expected: 'true or false' },
  first_boot_completed: { schema: flag, expected: 'true or false' },
  auto_snapshots: { schema: flag, expected: 'true or false' },
  cloud_init: { schema: flag, expected: 'true or false' },
  firewall: { schema: table, expected: 'a table of target = "allow" or "deny"' },
  plugins: { schema: table, expected: 'a table of plugin tables' },
  snapshots: { schema: table, expected: 'a table of snapshot tables' },
  secret_bindings: { schema: table, expected: 'a table of secret binding tables' },
  shares: { schema: z.array(table), expected: 'a list of share tables ([[shares]] with host, guest and read_only)' },
} satisfies Record<string, { schema: z.ZodType; expected: string }>;

type FieldKey = keyof typeof FIELDS;
const REQUIRED: readonly FieldKey[] = ['base', 'ssh_port'];

/**
 * vmConfigProblem returns why `raw` is not a valid vm.toml, as a fragment such
 * as `key "memory" must be … (found "abc")`, or null when it is valid.
 */
export function vmConfigProblem(raw: TomlTable): string | null {
  for (const key of REQUIRED) {
    if (raw[key] === undefined) return `key "${key}" is missing; it must be ${FIELDS[key].expected}`;
  }
  for (const [key, field] of Object.entries(FIELDS) as [FieldKey, (typeof FIELDS)[FieldKey]][]) {
    const value = raw[key];
    if (value === undefined) continue;
    if (!field.schema.safeParse(value).success) return `key "${key}" must be ${field.expected} (found ${describeValue(value)})`;
  }
  for (const text of (raw.ports as string[] | undefined) ?? []) {
    if (!parsePortMapping(text)) return `key "ports" has "${text}", which is not HOST:GUEST with ports from ${VM_LIMITS.port.min} to ${VM_LIMITS.port.max} (write it like "8080:80")`;
  }
  for (const [target, entry] of Object.entries((raw.firewall as TomlTable | undefined) ?? {})) {
    if (!firewallEntry.safeParse(entry).success) {
      return `key "firewall" has "${target}" = ${describeValue(entry)}, but each rule must be "allow", "deny" or a table with action and an ISO date in expires`;
    }
  }
  for (const [name, plugin] of Object.entries((raw.plugins as TomlTable | undefined) ?? {})) {
    if (!table.safeParse(plugin).success) return `key "plugins" has "${name}" = ${describeValue(plugin)}, but each plugin's settings must be a table`;
  }
  for (const [name, snapshot] of Object.entries((raw.snapshots as TomlTable | undefined) ?? {})) {
    if (!z.looseObject({ description: z.string(), auto: flag.optional() }).safeParse(snapshot).success) {
      return `key "snapshots" has "${name}" = ${describeValue(snapshot)}, but each snapshot must be a table with a description string (and auto = true or false)`;
    }
  }
  for (const [name, binding] of Object.entries((raw.secret_bindings as TomlTable | undefined) ?? {})) {
    if (nameProblem(name) !== null || !secretBinding.safeParse(binding).success) {
      return `key "secret_bindings" has "${name}" = ${describeValue(binding)}, but each binding must be a table with hosts, header, format (with "{}"), an xray placeholder and env`;
    }
  }
  for (const share of (raw.shares as TomlTable[] | undefined) ?? []) {
    if (!shareEntry.safeParse(share).success) {
      return `key "shares" has ${describeValue(share)}, but each share must have host (an absolute path), guest (an absolute path outside the guest's system directories) and read_only (true or false)`;
    }
  }
  return null;
}

/** parseVmConfig validates a parsed vm.toml; a bad value is a `corrupt` error naming `path` and the key. */
export function parseVmConfig(raw: TomlTable, path: string): VmConfig {
  const problem = vmConfigProblem(raw);
  if (problem) throw new XrayError('corrupt', `${path}: ${problem}; fix the file.`);
  const extra: TomlTable = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!Object.hasOwn(FIELDS, key)) extra[key] = value;
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
    firewall: mapValues((raw.firewall as TomlTable | undefined) ?? {}, (entry) => firewallEntry.parse(entry)),
    plugins: mapValues((raw.plugins as TomlTable | undefined) ?? {}, (plugin) => ({ ...(plugin as TomlTable) })),
    snapshots: mapValues((raw.snapshots as TomlTable | undefined) ?? {}, (snapshot) => ({ ...(snapshot as unknown as SnapshotEntry) })),
    autoSnapshots: (raw.auto_snapshots as boolean | undefined) ?? null,
    ...(raw.secret_bindings !== undefined ? { secretBindings: mapValues(raw.secret_bindings as TomlTable, (binding) => secretBinding.parse(binding)) } : {}),
    cloudInit: (raw.cloud_init as boolean | undefined) ?? true,
    shares: ((raw.shares as TomlTable[] | undefined) ?? []).map((share) => {
      const entry = shareEntry.parse(share);
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

export interface VmListEntry {
  readonly name: string;
  readonly config: VmConfig | null;
  /** error says why vm.toml could not be loaded; the VM still lists so the user can fix or remove it. */
  readonly error: string | null;
}

export interface VmStoreOptions {
  /** lock tunes the cross-process lock on vm.toml (tests shorten its timeout). */
  readonly lock?: FileLockOptions;
}

/**
 * VmStore reads and writes the vm.toml of every VM under XRAY_HOME/vms. Writes
 * are atomic, serialized per file within the process and locked across
 * processes, because the CLI and the daemon may both change one VM.
 */
export class VmStore {
  private readonly lock: FileLockOptions;

  constructor(
    private readonly paths: HomePaths,
    options: VmStoreOptions = {},
  ) {
    this.lock = options.lock ?? {};
  }

  /** list returns every VM directory holding a vm.toml, sorted by name. */
  async list(): Promise<VmListEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.paths.vmsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    // Each vm.toml is a few hundred bytes: reading them synchronously costs far
    // less than hundreds of thread-pool round trips when listing many VMs.
    const entries: VmListEntry[] = [];
    for (const name of names.filter((n) => nameProblem(n) === null).sort()) {
      const path = this.paths.vm(name).config;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') continue;
        entries.push({ name, config: null, error: `${path} cannot be read: ${errorMessage(err)}.` });
        continue;
      }
      try {
        entries.push({ name, config: parseVmConfig(parseToml(text, path), path), error: null });
      } catch (err) {
        entries.push({ name, config: null, error: errorMessage(err) });
      }
    }
    return entries;
  }

  async read(name: string): Promise<VmConfig> {
    const path = this.configPath(name);
    try {
      return parseVmConfig(await readToml(path), path);
    } catch (err) {
      if (err instanceof XrayError && err.code === 'not-found') throw notFound(name, err);
      throw err;
    }
  }

  async exists(name: string): Promise<boolean> {
    return nameProblem(name) === null && isFile(this.paths.vm(name).config);
  }

  /** write replaces vm.toml with `cfg`, creating the VM directory when needed. */
  async write(name: string, cfg: VmConfig): Promise<void> {
    const path = this.configPath(name);
    const data = serializeVmConfig(cfg);
    checkNewConfig(name, data);
    await writeToml(path, data, 0o600, this.lock);
  }

  /**
   * update reads vm.toml, lets `mutate` change the config, and writes it back,
   * all under the file's lock so concurrent updates never lose each other's
   * changes. A file that does not parse is left untouched.
   */
  async update(name: string, mutate: (cfg: VmConfig) => void | Promise<void>): Promise<VmConfig> {
    const path = this.configPath(name);
    if (!(await isFile(path))) throw notFound(name);
    let updated: VmConfig | undefined;
    await updateToml(
      path,
      async (data) => {
        if (!(await isFile(path))) throw notFound(name);
        const cfg = parseVmConfig(data, path);
        await mutate(cfg);
        const next = serializeVmConfig(cfg);
        checkNewConfig(name, next);
        for (const key of Object.keys(data)) delete data[key];
        Object.assign(data, next);
        updated = parseVmConfig(next, path);
      },
      0o600,
      this.lock,
    );
    if (!updated) throw new XrayError('internal', `Updating VM "${name}" produced no configuration; report this as a bug.`);
    return updated;
  }

  /** remove deletes the VM directory with everything in it. */
  async remove(name: string): Promise<void> {
    validateName('VM', name);
    await rm(this.paths.vm(name).dir, { recursive: true, force: true });
  }

  private configPath(name: string): string {
    return this.paths.vm(validateName('VM', name)).config;
  }
}

function checkNewConfig(name: string, data: TomlTable): void {
  const problem = vmConfigProblem(data);
  if (problem) throw new XrayError('invalid-argument', `The new settings for VM "${name}" are invalid: ${problem}.`);
}

function notFound(name: string, cause?: unknown): XrayError {
  return new XrayError('not-found', `VM "${name}" does not exist; run "xray list" to see your VMs.`, { cause });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw err;
  }
}

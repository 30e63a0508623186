// Runs in: plain Node (core).
import * as z from 'zod';
import { nameProblem } from '../../shared/names';
import { guestPathProblem } from '../../shared/shares';
import { PLACEHOLDER_PATTERN, envNameProblem, formatProblem, headerProblem } from '../../shared/secrets';
import { VM_LIMITS, parsePortMapping } from '../../shared/vm';
import { describeValue, type TomlTable } from './toml-file';

/**
 * vm-config-schema says what a valid vm.toml is: each known key's schema and
 * the words that tell a person what a bad value should have been.
 */

/**
 * isTable says a value read from TOML is a table: not a list, a date or a
 * scalar. (A zod record schema would say the same, at many times the cost:
 * `xray list` checks every key of every VM's vm.toml.)
 */
function isTable(value: unknown): value is TomlTable {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * buildEntrySchemas makes the schemas of the tables inside vm.toml's keys.
 * They are built on first use: most VMs have no rules, bindings, shares or
 * snapshots, and building zod schemas costs every command start-up time.
 */
function buildEntrySchemas() {
  const flag = z.boolean();
  const action = z.enum(['allow', 'deny']);
  const isoDate = z
    .union([z.string(), z.date()])
    .transform((value) => (value instanceof Date ? value.toISOString() : value))
    .refine((value) => !Number.isNaN(Date.parse(value)));
  /** firewallEntry reads one rule under [firewall]: a bare action or a table with an expiry. */
  const firewallEntry = z.union([action, z.looseObject({ action, expires: isoDate.optional() })]);
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
  /** snapshot reads one [snapshots.NAME] table. */
  const snapshot = z.looseObject({ description: z.string(), auto: flag.optional() });
  return { firewallEntry, secretBinding, shareEntry, snapshot };
}

let built: ReturnType<typeof buildEntrySchemas> | undefined;

/** entrySchemas are the schemas of a rule under [firewall], a [secret_bindings.NAME], a [[shares]] and a [snapshots.NAME] table. */
export function entrySchemas(): ReturnType<typeof buildEntrySchemas> {
  built ??= buildEntrySchemas();
  return built;
}

/** isWholeNumber says a value is a whole number from min to max. */
function isWholeNumber(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

const isFlag = (value: unknown): boolean => typeof value === 'boolean';

/**
 * FIELDS lists every top-level key Xray knows, the test its value must pass,
 * and the words that finish "key K must be …" when it does not. The tests are
 * plain functions, not zod schemas, because every command that lists VMs runs
 * them on every key of every vm.toml.
 */
const FIELDS = {
  base: { valid: (v: unknown) => typeof v === 'string' && nameProblem(v) === null, expected: 'the name of a base image (letters, digits, ".", "_", "-")' },
  memory: { valid: (v: unknown) => isWholeNumber(v, 1), expected: 'a positive whole number of megabytes' },
  cpus: { valid: (v: unknown) => isWholeNumber(v, 1, 1024), expected: 'a whole number of CPUs from 1 to 1024' },
  ports: { valid: (v: unknown) => Array.isArray(v) && v.every((item) => typeof item === 'string'), expected: 'a list of "HOST:GUEST" strings such as "8080:80"' },
  ssh_port: { valid: (v: unknown) => isWholeNumber(v, VM_LIMITS.port.min, VM_LIMITS.port.max), expected: `a port number from ${VM_LIMITS.port.min} to ${VM_LIMITS.port.max}` },
  ssh_user: { valid: (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v), expected: 'a user name (letters, digits, ".", "_", "-")' },
  firewall_configured: { valid: isFlag, expected: 'true or false' },
  first_boot_completed: { valid: isFlag, expected: 'true or false' },
  auto_snapshots: { valid: isFlag, expected: 'true or false' },
  cloud_init: { valid: isFlag, expected: 'true or false' },
  firewall: { valid: isTable, expected: 'a table of target = "allow" or "deny"' },
  plugins: { valid: isTable, expected: 'a table of plugin tables' },
  snapshots: { valid: isTable, expected: 'a table of snapshot tables' },
  secret_bindings: { valid: isTable, expected: 'a table of secret binding tables' },
  shares: { valid: (v: unknown) => Array.isArray(v) && v.every(isTable), expected: 'a list of share tables ([[shares]] with host, guest and read_only)' },
} satisfies Record<string, { valid: (value: unknown) => boolean; expected: string }>;

type FieldKey = keyof typeof FIELDS;
const REQUIRED: readonly FieldKey[] = ['base', 'ssh_port'];
const FIELD_ENTRIES = Object.entries(FIELDS) as [FieldKey, (typeof FIELDS)[FieldKey]][];

/** isVmConfigKey tells a top-level vm.toml key Xray knows from one it keeps verbatim in `extra`. */
export function isVmConfigKey(key: string): boolean {
  return Object.hasOwn(FIELDS, key);
}

/**
 * vmConfigProblem returns why `raw` is not a valid vm.toml, as a fragment such
 * as `key "memory" must be … (found "abc")`, or null when it is valid.
 */
export function vmConfigProblem(raw: TomlTable): string | null {
  for (const key of REQUIRED) {
    if (raw[key] === undefined) return `key "${key}" is missing; it must be ${FIELDS[key].expected}`;
  }
  for (const [key, field] of FIELD_ENTRIES) {
    const value = raw[key];
    if (value === undefined) continue;
    if (!field.valid(value)) return `key "${key}" must be ${field.expected} (found ${describeValue(value)})`;
  }
  for (const text of (raw.ports as string[] | undefined) ?? []) {
    if (!parsePortMapping(text)) return `key "ports" has "${text}", which is not HOST:GUEST with ports from ${VM_LIMITS.port.min} to ${VM_LIMITS.port.max} (write it like "8080:80")`;
  }
  for (const [target, entry] of Object.entries((raw.firewall as TomlTable | undefined) ?? {})) {
    if (!entrySchemas().firewallEntry.safeParse(entry).success) {
      return `key "firewall" has "${target}" = ${describeValue(entry)}, but each rule must be "allow", "deny" or a table with action and an ISO date in expires`;
    }
  }
  for (const [name, plugin] of Object.entries((raw.plugins as TomlTable | undefined) ?? {})) {
    if (!isTable(plugin)) return `key "plugins" has "${name}" = ${describeValue(plugin)}, but each plugin's settings must be a table`;
  }
  for (const [name, snapshot] of Object.entries((raw.snapshots as TomlTable | undefined) ?? {})) {
    if (!entrySchemas().snapshot.safeParse(snapshot).success) {
      return `key "snapshots" has "${name}" = ${describeValue(snapshot)}, but each snapshot must be a table with a description string (and auto = true or false)`;
    }
  }
  for (const [name, binding] of Object.entries((raw.secret_bindings as TomlTable | undefined) ?? {})) {
    if (nameProblem(name) !== null || !entrySchemas().secretBinding.safeParse(binding).success) {
      return `key "secret_bindings" has "${name}" = ${describeValue(binding)}, but each binding must be a table with hosts, header, format (with "{}"), an xray placeholder and env`;
    }
  }
  for (const share of (raw.shares as TomlTable[] | undefined) ?? []) {
    if (!entrySchemas().shareEntry.safeParse(share).success) {
      return `key "shares" has ${describeValue(share)}, but each share must have host (an absolute path), guest (an absolute path outside the guest's system directories) and read_only (true or false)`;
    }
  }
  return null;
}

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

const port = z.number().int().min(VM_LIMITS.port.min).max(VM_LIMITS.port.max);
const flag = z.boolean();
const action = z.enum(['allow', 'deny']);
const isoDate = z
  .union([z.string(), z.date()])
  .transform((value) => (value instanceof Date ? value.toISOString() : value))
  .refine((value) => !Number.isNaN(Date.parse(value)));
/** firewallEntrySchema reads one rule under [firewall]: a bare action or a table with an expiry. */
export const firewallEntrySchema = z.union([action, z.looseObject({ action, expires: isoDate.optional() })]);
const table = z.record(z.string(), z.unknown()).refine((value) => !(value instanceof Date) && !Array.isArray(value));
/**
 * secretBindingSchema reads a [secret_bindings.NAME] table. Keys it does not know
 * are dropped on the next write rather than kept: nothing but these may sit
 * beside a binding, so a value pasted there by hand does not stay.
 */
export const secretBindingSchema = z.object({
  hosts: z.array(z.string()).min(1),
  header: z.string().refine((v) => headerProblem(v) === null),
  format: z.string().refine((v) => formatProblem(v) === null),
  placeholder: z.string().regex(PLACEHOLDER_PATTERN),
  env: z.string().refine((v) => envNameProblem(v) === null),
});

/** shareEntrySchema reads one [[shares]] table; the host folder's own checks run when the VM starts. */
export const shareEntrySchema = z.object({
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
  for (const [key, field] of Object.entries(FIELDS) as [FieldKey, (typeof FIELDS)[FieldKey]][]) {
    const value = raw[key];
    if (value === undefined) continue;
    if (!field.schema.safeParse(value).success) return `key "${key}" must be ${field.expected} (found ${describeValue(value)})`;
  }
  for (const text of (raw.ports as string[] | undefined) ?? []) {
    if (!parsePortMapping(text)) return `key "ports" has "${text}", which is not HOST:GUEST with ports from ${VM_LIMITS.port.min} to ${VM_LIMITS.port.max} (write it like "8080:80")`;
  }
  for (const [target, entry] of Object.entries((raw.firewall as TomlTable | undefined) ?? {})) {
    if (!firewallEntrySchema.safeParse(entry).success) {
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
    if (nameProblem(name) !== null || !secretBindingSchema.safeParse(binding).success) {
      return `key "secret_bindings" has "${name}" = ${describeValue(binding)}, but each binding must be a table with hosts, header, format (with "{}"), an xray placeholder and env`;
    }
  }
  for (const share of (raw.shares as TomlTable[] | undefined) ?? []) {
    if (!shareEntrySchema.safeParse(share).success) {
      return `key "shares" has ${describeValue(share)}, but each share must have host (an absolute path), guest (an absolute path outside the guest's system directories) and read_only (true or false)`;
    }
  }
  return null;
}

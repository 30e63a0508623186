// Runs in: anywhere. The one contract for everything that crosses a process
// boundary: the control socket, the Electron IPC bridge and the browser UI.
// Each request names its params schema (checked by the receiver) and its result type.
import * as z from 'zod';
import { displaySchema, guestArchSchema, hookTypeSchema, promptLifetimeSchema, promptScopeSchema, ruleActionSchema } from './enums';
import { CONSOLE_INPUT_MAX_CHARS } from './console';
import type { XrayEvent } from './events';
import { POLICY_MAX_BYTES } from './policy';
import type { Results } from './results';
import { SECRET_MAX_BYTES } from './secrets';
import { SHARE_LIMITS } from './shares';
import { VM_LIMITS } from './vm';

// The pieces the schemas share; each schema builds its own, when it is built (see requestSchemas).
const name = () => z.string().min(1).max(200);
const port = () => z.number().int().min(VM_LIMITS.port.min).max(VM_LIMITS.port.max);
const memoryMb = () =>
  z
    .number()
    .int()
    .min(VM_LIMITS.memoryMb.min, `a VM needs at least ${VM_LIMITS.memoryMb.min} MB of memory`)
    .max(VM_LIMITS.memoryMb.max, `a VM can have at most ${VM_LIMITS.memoryMb.max} MB of memory`);
const cpus = () =>
  z
    .number()
    .int()
    .min(VM_LIMITS.cpus.min, `a VM needs at least ${VM_LIMITS.cpus.min} CPU`)
    .max(VM_LIMITS.cpus.max, `a VM can have at most ${VM_LIMITS.cpus.max} CPUs`);
const sshUser = () =>
  z
    .string()
    .min(VM_LIMITS.sshUserLength.min, 'the SSH user is empty')
    .max(VM_LIMITS.sshUserLength.max, `an SSH user name has at most ${VM_LIMITS.sshUserLength.max} characters`);
const portMapping = () => z.object({ host: port(), guest: port() });

/** requestSchemaBuilders make the schema of each API method's params (see requestSchemas). */
const requestSchemaBuilders = {
  'vm.list': () => z.object({}),
  'vm.info': () => z.object({ name: name() }),
  'vm.defaults': () => z.object({}),
  'vm.create': () => z.object({
    name: name(),
    base: name(),
    memoryMb: memoryMb().optional(),
    cpus: cpus().optional(),
    sshUser: sshUser().optional(),
    ports: z.array(portMapping()).optional(),
    cloudInit: z.boolean().optional(),
  }),
  'vm.remove': () => z.object({ name: name(), force: z.boolean().optional() }),
  'vm.update': () => z.object({
    name: name(),
    memoryMb: memoryMb().optional(),
    cpus: cpus().optional(),
    sshUser: sshUser().optional(),
    /** autoSnapshots turns the VM's automatic snapshots on or off; null follows config.toml. It may change while the VM runs. */
    autoSnapshots: z.boolean().nullable().optional(),
  }),
  'vm.start': () => z.object({
    name: name(),
    noHooks: z.boolean().optional(),
    allowAll: z.boolean().optional(),
    /** learn allows what allow-all would and records it for review (`firewall.learned`), for this run. */
    learn: z.boolean().optional(),
    display: displaySchema.optional(),
    fromSnapshot: name().optional(),
  }),
  'vm.stop': () => z.object({ name: name(), force: z.boolean().optional() }),
  'vm.console': () => z.object({ name: name() }),
  'vm.consoleInput': () => z.object({
    name: name(),
    data: z.string().min(1).max(CONSOLE_INPUT_MAX_CHARS, `type at most ${CONSOLE_INPUT_MAX_CHARS} characters at a time`),
  }),
  'vm.timeline': () => z.object({ vm: name(), since: z.iso.datetime().optional(), limit: z.number().int().positive().max(100_000).optional() }),
  'port.list': () => z.object({ vm: name() }),
  'port.add': () => z.object({ vm: name(), mapping: portMapping() }),
  'port.remove': () => z.object({ vm: name(), mapping: portMapping() }),
  'share.list': () => z.object({ vm: name() }),
  'share.add': () =>
    z.object({
      vm: name(),
      hostPath: z.string().min(1).max(SHARE_LIMITS.pathLength),
      guestPath: z.string().min(1).max(SHARE_LIMITS.pathLength).optional(),
      readOnly: z.boolean().optional(),
    }),
  /** share.remove: `path` is the share's guest path or its host folder. */
  'share.remove': () => z.object({ vm: name(), path: z.string().min(1).max(SHARE_LIMITS.pathLength) }),
  'port.listening': () => z.object({ vm: name() }),
  'base.list': () => z.object({}),
  'base.import': () => z.object({
    path: z.string().min(1),
    name: name().optional(),
    link: z.boolean().optional(),
    arch: guestArchSchema.optional(),
    convert: z.boolean().optional(),
    flatten: z.boolean().optional(),
    cloudInit: z.boolean().optional(),
  }),
  'base.remove': () => z.object({ name: name() }),
  'base.catalog': () => z.object({}),
  'base.pull': () => z.object({
    source: z.string().min(1).max(2048),
    arch: guestArchSchema.optional(),
    name: name().optional(),
    checksum: z.string().max(200).optional(),
    checksumsUrl: z.string().min(1).max(2048).optional(),
    insecureNoChecksum: z.boolean().optional(),
  }),
  'base.cancel': () => z.object({ name: name() }),
  'snapshot.list': () => z.object({ vm: name() }),
  'snapshot.create': () => z.object({ vm: name(), name: name(), description: z.string().max(1000).optional() }),
  'snapshot.revert': () => z.object({ vm: name(), name: name() }),
  'snapshot.delete': () => z.object({ vm: name(), name: name() }),
  'config.get': () => z.object({}),
  'config.set': () => z.object({ key: z.string().min(1), value: z.string() }),
  'firewall.rules': () => z.object({ vm: name() }),
  'firewall.add': () => z.object({
    vm: name(),
    target: z.string().min(1),
    action: ruleActionSchema,
    lifetime: promptLifetimeSchema.default('forever'),
    durationSeconds: z.number().int().positive().optional(),
  }),
  'firewall.remove': () => z.object({ vm: name(), id: z.string().min(1) }),
  'firewall.clear': () => z.object({ vm: name() }),
  'firewall.log': () => z.object({ vm: name(), limit: z.number().int().positive().max(10_000).optional() }),
  'firewall.export': () => z.object({ vm: name() }),
  /** firewall.learned reviews what the VM reached in its last learn run (`vm.start` with learn). */
  'firewall.learned': () => z.object({ vm: name() }),
  /** firewall.import applies a policy file's text (`file` names it in errors); dryRun only says what would change. */
  'firewall.import': () => z.object({ vm: name(), text: z.string().max(POLICY_MAX_BYTES), file: z.string().max(4096).optional(), dryRun: z.boolean().optional() }),
  /** follow also announces the VM's connections as `firewall.connections` events for CONNECTIONS_FOLLOW_MS. */
  'firewall.connections': () => z.object({ vm: name(), follow: z.boolean().optional() }),
  'prompt.list': () => z.object({}),
  'prompt.answer': () =>
    z.object({
      id: z.string().min(1),
      action: ruleActionSchema,
      /** scope defaults to the narrowest the prompt offers: host-port for a connection, request for an HTTP request. */
      scope: promptScopeSchema.optional(),
      lifetime: promptLifetimeSchema.default('once'),
      durationSeconds: z.number().int().positive().optional(),
    }),
  'hooks.list': () => z.object({ vm: name() }),
  'hooks.run': () => z.object({ vm: name(), type: hookTypeSchema }),
  'hooks.resetInitialBoot': () => z.object({ vm: name() }),
  'hooks.runs': () => z.object({ vm: name(), limit: z.number().int().positive().max(1000).optional() }),
  'secret.list': () => z.object({}),
  'secret.set': () => z.object({ name: name(), value: z.string().min(1).max(SECRET_MAX_BYTES) }),
  'secret.remove': () => z.object({ name: name() }),
  'secret.bindings': () => z.object({ vm: name() }),
  'secret.bind': () => z.object({
    vm: name(),
    secret: name(),
    hosts: z.array(z.string().min(1).max(253)).min(1).max(64),
    header: z.string().min(1).max(64),
    format: z.string().max(256).optional(),
    env: z.string().max(128).optional(),
  }),
  'secret.unbind': () => z.object({ vm: name(), secret: name() }),
  'plugin.list': () => z.object({}),
  'plugin.run': () => z.object({ plugin: name(), command: name(), args: z.array(z.string()).default([]) }),
} as const;

/**
 * requestSchemas maps each API method to the schema of its params. Each is
 * built the first time it is read: building all of them took a CLI
 * command's start-up about 10 ms, and a command calls one or two methods.
 */
export const requestSchemas = builtOnFirstRead(requestSchemaBuilders);

/** builtOnFirstRead is a record whose every value is its builder's result, built when first read and kept. */
function builtOnFirstRead<T extends Record<string, () => unknown>>(builders: T): { readonly [K in keyof T]: ReturnType<T[K]> } {
  const record = {} as { [K in keyof T]: ReturnType<T[K]> };
  for (const key of Object.keys(builders) as (keyof T & string)[]) {
    Object.defineProperty(record, key, {
      enumerable: true,
      configurable: true,
      get: () => {
        const value = builders[key]!();
        Object.defineProperty(record, key, { value, enumerable: true });
        return value;
      },
    });
  }
  return record;
}

export type Method = keyof typeof requestSchemas;
export type Params<M extends Method> = z.input<(typeof requestSchemas)[M]>;
export type ParsedParams<M extends Method> = z.output<(typeof requestSchemas)[M]>;

export type { CatalogEntry, PluginInfo, Results } from './results';
export type { EventType, XrayEvent } from './events';

/** XrayApi is the service surface every transport offers. */
export interface XrayApi {
  call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]>;
  subscribe(listener: (event: XrayEvent) => void): () => void;
}

/**
 * parseParams validates a request's params on the receiving side: the
 * parsed params (defaults filled in, unknown keys dropped), or the one
 * sentence that says what is wrong with them.
 */
export function parseParams<M extends Method>(method: M, params: unknown): { ok: true; value: ParsedParams<M> } | { ok: false; problem: string } {
  const parsed = requestSchemas[method].safeParse(params ?? {});
  if (parsed.success) return { ok: true, value: parsed.data as ParsedParams<M> };
  const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
  return { ok: false, problem: `Bad request for ${method}: ${detail}.` };
}

export function isMethod(value: unknown): value is Method {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(requestSchemas, value);
}

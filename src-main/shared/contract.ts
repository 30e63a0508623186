// Runs in: anywhere. The one contract for everything that crosses a process
// boundary: the control socket, the Electron IPC bridge and the browser UI.
// Each request names its params schema (checked by the receiver) and its result type.
import * as z from 'zod';
import {
  displaySchema,
  guestArchSchema,
  hookTypeSchema,
  promptLifetimeSchema,
  promptScopeSchema,
  ruleActionSchema,
  type GuestArch,
  type HookSource,
  type HookType,
  type PromptCloseReason,
} from './enums';
import type { EgressReport } from './egress';
import { CONSOLE_INPUT_MAX_CHARS } from './console';
import type { LearnedReview } from './learned';
import { POLICY_MAX_BYTES, type PolicyExport, type PolicyImport } from './policy';
import type { GuestListener, OpenConnection, PortChange } from './live';
import { SECRET_MAX_BYTES } from './secrets';
import { VM_LIMITS, type VmDefaults } from './vm';
import type {
  BaseInfo,
  BootDiagnosis,
  ConsoleScrollback,
  FirewallLogEntry,
  FirewallPrompt,
  FirewallRule,
  GlobalSettings,
  GuestProcess,
  HookRun,
  HookRunRecord,
  PortMapping,
  SnapshotInfo,
  VmInfo,
  VmStateName,
  VmStopResult,
  VmSummary,
  CrashReport,
  StopMethod,
  Destination,
  RuleAction,
  SecretBackendInfo,
  SecretBinding,
  SecretInfo,
  Share,
  ShareChange,
  TimelineEntry,
} from './models';
import { SHARE_LIMITS } from './shares';

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

export interface PluginInfo {
  readonly name: string;
  readonly file: string;
  /** commands are what `plugin.run` runs; a risky one gets an automatic snapshot of each VM before it first reaches it. */
  readonly commands: readonly { readonly name: string; readonly description: string; readonly risky: boolean }[];
  readonly hooks: readonly HookType[];
  readonly error: string | null;
}

/** CatalogEntry is one image `base.pull` can fetch by name, and whether a base of that name exists. */
export interface CatalogEntry {
  readonly name: string;
  readonly arch: GuestArch;
  readonly title: string;
  readonly url: string;
  readonly imported: boolean;
}

/** Results maps each API method to what it resolves with. */
export interface Results {
  'vm.list': VmSummary[];
  'vm.info': VmInfo;
  'vm.defaults': VmDefaults;
  'vm.create': VmSummary;
  'vm.remove': null;
  'vm.update': VmSummary;
  'vm.start': VmSummary;
  'vm.stop': VmStopResult;
  'vm.console': ConsoleScrollback;
  'vm.consoleInput': null;
  'vm.timeline': TimelineEntry[];
  'port.list': PortMapping[];
  'share.list': Share[];
  'share.add': ShareChange;
  'share.remove': ShareChange;
  'port.add': PortChange;
  'port.remove': PortChange;
  /** port.listening: the guest's listening TCP ports, or null when it cannot be asked (the VM is not ready). */
  'port.listening': GuestListener[] | null;
  'base.list': BaseInfo[];
  'base.import': BaseInfo;
  'base.remove': null;
  'base.catalog': CatalogEntry[];
  'base.pull': BaseInfo;
  'base.cancel': null;
  'snapshot.list': SnapshotInfo[];
  'snapshot.create': SnapshotInfo;
  'snapshot.revert': null;
  'snapshot.delete': null;
  'config.get': GlobalSettings;
  'config.set': GlobalSettings;
  'firewall.rules': FirewallRule[];
  'firewall.add': FirewallRule;
  'firewall.remove': null;
  'firewall.clear': null;
  'firewall.log': FirewallLogEntry[];
  'firewall.export': PolicyExport;
  'firewall.learned': LearnedReview;
  'firewall.import': PolicyImport;
  'firewall.connections': OpenConnection[];
  'prompt.list': FirewallPrompt[];
  'prompt.answer': null;
  'hooks.list': { type: HookType; script: string; source: HookSource; risky: boolean }[];
  'hooks.run': HookRun[];
  'hooks.resetInitialBoot': null;
  'hooks.runs': HookRunRecord[];
  'secret.list': { backend: SecretBackendInfo; secrets: SecretInfo[] };
  'secret.set': SecretInfo;
  'secret.remove': null;
  'secret.bindings': SecretBinding[];
  'secret.bind': SecretBinding;
  'secret.unbind': null;
  'plugin.list': PluginInfo[];
  'plugin.run': { output: string };
}

/** XrayEvent is everything the service announces; a discriminated union on `type`. */
export type XrayEvent =
  /** vm.state: a VM's state changed; a crash says why, a stop says how it ended (stoppedBy). */
  | { readonly type: 'vm.state'; readonly vm: string; readonly state: VmStateName; readonly previous: VmStateName; readonly crash?: CrashReport; readonly stoppedBy?: StopMethod }
  | { readonly type: 'vm.changed'; readonly vm: string }
  /** vm.diagnosis: a booting VM has not let Xray log in within its boot_timeout, and this is why (it stays booting). */
  | { readonly type: 'vm.diagnosis'; readonly vm: string; readonly diagnosis: BootDiagnosis }
  | { readonly type: 'vm.removed'; readonly vm: string }
  /** console.output: what a VM printed on its serial console, from position `start` of its live console `stream` (see ConsoleScrollback). */
  | { readonly type: 'console.output'; readonly vm: string; readonly stream: string; readonly start: number; readonly text: string }
  /** base.progress: an import copying (total known) or a pull downloading (total 0 until the server says). */
  | {
      readonly type: 'base.progress';
      readonly name: string;
      readonly done: number;
      readonly total: number;
      readonly phase?: 'download' | 'import';
      readonly bytesPerSecond?: number;
    }
  | { readonly type: 'base.changed' }
  /** snapshot.progress: a snapshot operation running, done or failed; a new snapshot's description comes with it. */
  | {
      readonly type: 'snapshot.progress';
      readonly vm: string;
      readonly name: string;
      readonly operation: 'create' | 'revert' | 'delete';
      readonly status: 'running' | 'done' | 'failed';
      readonly error?: string;
      readonly description?: string;
    }
  | { readonly type: 'prompt.opened'; readonly prompt: FirewallPrompt }
  | { readonly type: 'prompt.updated'; readonly prompt: FirewallPrompt; readonly guestProcess?: GuestProcess }
  | { readonly type: 'prompt.closed'; readonly id: string; readonly vm: string; readonly action: RuleAction; readonly reason: PromptCloseReason }
  /** firewall.decision: one connection decided; `rule` is the id of the rule that decided it (to revoke it), if one did. */
  | { readonly type: 'firewall.decision'; readonly vm: string; readonly destination: Destination; readonly action: RuleAction; readonly reason: string; readonly rule: string | null }
  | { readonly type: 'firewall.connection'; readonly entry: FirewallLogEntry }
  /** firewall.connections: a followed VM's open connections now, at most once a second and only when they changed. */
  | { readonly type: 'firewall.connections'; readonly vm: string; readonly connections: OpenConnection[] }
  /** firewall.status: whether the guest was verified to send all TCP through its firewall. */
  | { readonly type: 'firewall.status'; readonly vm: string; readonly active: boolean }
  | { readonly type: 'hook.started'; readonly run: HookRun }
  | { readonly type: 'hook.output'; readonly vm: string; readonly script: string; readonly stream: 'stdout' | 'stderr'; readonly text: string }
  | { readonly type: 'hook.finished'; readonly run: HookRun }
  /** egress.report: what the egress interceptor did with a VM's secrets and HTTP requests (see EgressReport). */
  | { readonly type: 'egress.report'; readonly report: EgressReport }
  /** timeline.entry: one thing a VM did, as its timeline records it (vm.timeline reads them back). */
  | { readonly type: 'timeline.entry'; readonly entry: TimelineEntry }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly source: string; readonly message: string };

export type EventType = XrayEvent['type'];

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

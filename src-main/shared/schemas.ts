// Runs in: anywhere (pure). What results and events look like on the wire, as
// zod schemas, so whatever receives them can check them: clients do in
// development, and the tests check everything a real service sends.
import * as z from 'zod';
import type { Method, Results, XrayEvent } from './contract';
import type { EgressReport } from './egress';
import {
  acceleratorSchema,
  bootProblemSchema,
  connectionStateSchema,
  guestArchSchema,
  hookSourceSchema,
  hookTypeSchema,
  promptCloseReasonSchema,
  ruleActionSchema,
  stopMethodSchema,
  vmStateSchema,
} from './enums';
import type {
  BaseInfo,
  BootDiagnosis,
  ConsoleScrollback,
  CrashReport,
  Destination,
  FirewallLogEntry,
  FirewallPrompt,
  FirewallRule,
  HookRun,
  Share,
  ShareChange,
  SnapshotInfo,
  TimelineEntry,
  VmInfo,
  VmStopResult,
  VmSummary,
} from './models';
import type { GuestListener, OpenConnection, PortChange } from './live';

const count = z.number().int().nonnegative();
const portMapping = z.strictObject({ host: z.number().int(), guest: z.number().int() });

const crashReportSchema = z.strictObject({
  at: z.string(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  consoleTail: z.array(z.string()),
  stderrTail: z.array(z.string()),
}) satisfies z.ZodType<CrashReport>;

const bootDiagnosisSchema = z.strictObject({
  problem: bootProblemSchema,
  message: z.string(),
  at: z.string(),
  consoleTail: z.array(z.string()),
}) satisfies z.ZodType<BootDiagnosis>;

const vmSummaryShape = {
  name: z.string(),
  state: vmStateSchema,
  base: z.string(),
  arch: guestArchSchema,
  memoryMb: count,
  cpus: count,
  sshPort: count,
  sshUser: z.string(),
  ports: z.array(portMapping),
  pid: z.number().int().positive().nullable(),
  accelerator: acceleratorSchema.nullable(),
  firewallActive: z.boolean(),
  openConnections: count,
  pendingPrompts: count,
  crash: crashReportSchema.nullable(),
  diagnosis: bootDiagnosisSchema.nullable(),
  configError: z.string().nullable(),
};
const vmSummarySchema = z.strictObject(vmSummaryShape) satisfies z.ZodType<VmSummary>;
const vmStopResultSchema = z.strictObject({ ...vmSummaryShape, stoppedBy: stopMethodSchema.nullable() }) satisfies z.ZodType<VmStopResult>;

const snapshotInfoSchema = z.strictObject({
  name: z.string(),
  date: z.string(),
  vmStateSize: count,
  hasMemory: z.boolean(),
  description: z.string().nullable(),
  auto: z.boolean().optional(),
}) satisfies z.ZodType<SnapshotInfo>;

const vmInfoSchema = z.strictObject({
  summary: vmSummarySchema,
  config: z.record(z.string(), z.unknown()),
  diskChain: z.array(
    z.strictObject({ filename: z.string(), format: z.string(), virtualSize: count, actualSize: count, backingFilename: z.string().nullable() }),
  ),
  snapshots: z.array(snapshotInfoSchema),
  autoSnapshots: z.strictObject({ enabled: z.boolean(), fromDefault: z.boolean(), keep: count }),
}) satisfies z.ZodType<VmInfo>;

const baseInfoSchema = z.strictObject({
  name: z.string(),
  arch: guestArchSchema,
  virtualSize: count,
  fileSize: count,
  linked: z.boolean(),
  source: z.string().nullable(),
  importedAt: z.string().nullable(),
  cloudInit: z.boolean(),
  usedBy: z.array(z.string()),
}) satisfies z.ZodType<BaseInfo>;

const rulePort = z.number().int().nullable();
const httpMatch = z.strictObject({ methods: z.array(z.string()).nullable(), path: z.string().nullable() });
const firewallRuleSchema = z.strictObject({
  id: z.string(),
  target: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('ip'), ip: z.string(), port: rulePort }),
    z.strictObject({ kind: z.literal('cidr'), cidr: z.string(), port: rulePort }),
    z.strictObject({ kind: z.literal('domain'), domain: z.string(), port: rulePort, http: httpMatch.optional() }),
    z.strictObject({ kind: z.literal('domain-suffix'), domain: z.string(), port: rulePort, http: httpMatch.optional() }),
  ]),
  action: ruleActionSchema,
  lifetime: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('once') }),
    z.strictObject({ kind: z.literal('duration'), until: z.string() }),
    z.strictObject({ kind: z.literal('until-stop') }),
    z.strictObject({ kind: z.literal('forever') }),
  ]),
  source: z.enum(['vm', 'default', 'session']),
}) satisfies z.ZodType<FirewallRule>;

const destinationSchema = z.strictObject({
  ip: z.string().nullable(),
  port: z.number().int(),
  name: z.string().nullable(),
  nameSource: z.enum(['socks', 'sni', 'http-host', 'dns']).nullable(),
  service: z.string().nullable(),
}) satisfies z.ZodType<Destination>;

const guestProcessSchema = z.strictObject({ pid: z.number().int(), command: z.string(), user: z.string().nullable() });

const httpRequestLineSchema = z.strictObject({ method: z.string(), path: z.string() });

const firewallPromptSchema = z.strictObject({
  id: z.string(),
  vm: z.string(),
  destination: destinationSchema,
  request: httpRequestLineSchema.optional(),
  openedAt: z.string(),
  deadline: z.string(),
  waitingConnections: count,
  guestProcess: guestProcessSchema.nullable(),
}) satisfies z.ZodType<FirewallPrompt>;

const firewallLogEntrySchema = z.strictObject({
  at: z.string(),
  vm: z.string(),
  kind: z.enum(['decision', 'connection', 'dns']),
  destination: destinationSchema,
  action: ruleActionSchema.optional(),
  reason: z.string().optional(),
  bytesUp: count.optional(),
  bytesDown: count.optional(),
  durationMs: z.number().nonnegative().optional(),
  addresses: z.array(z.string()).optional(),
}) satisfies z.ZodType<FirewallLogEntry>;

const openConnectionSchema = z.strictObject({
  id: count,
  destination: destinationSchema,
  state: connectionStateSchema,
  bytesUp: count,
  bytesDown: count,
  openedAt: z.string(),
  reason: z.string().nullable(),
  rule: z.string().nullable(),
}) satisfies z.ZodType<OpenConnection>;

const guestListenerSchema = z.strictObject({
  port: z.number().int(),
  addresses: z.array(z.string()),
  program: z.string().nullable(),
  reachable: z.boolean(),
}) satisfies z.ZodType<GuestListener>;

const portChangeSchema = z.strictObject({ ports: z.array(portMapping), live: z.boolean() }) satisfies z.ZodType<PortChange>;

const hookRunSchema = z.strictObject({
  vm: z.string(),
  type: hookTypeSchema,
  script: z.string(),
  source: hookSourceSchema,
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  error: z.string().nullable(),
}) satisfies z.ZodType<HookRun>;

const lifecycleEvent = z.enum(['starting', 'ready', 'stopped', 'crashed']);
const at = { at: z.string(), vm: z.string() };

const egressBase = { vm: z.string(), host: z.string() };
const egressReportSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...egressBase, kind: z.literal('secret-used'), secret: z.string(), header: z.string(), method: z.string(), path: z.string() }),
  z.strictObject({
    ...egressBase,
    kind: z.literal('secret-refused'),
    secret: z.string(),
    place: z.enum(['header', 'url', 'body', 'host']),
    header: z.string().nullable(),
    method: z.string(),
    path: z.string(),
  }),
  z.strictObject({ ...egressBase, kind: z.literal('secret-masked'), secret: z.string(), method: z.string(), path: z.string() }),
  z.strictObject({ ...egressBase, kind: z.literal('secret-unavailable'), secret: z.string(), reason: z.string() }),
  z.strictObject({ ...egressBase, kind: z.literal('request-refused'), method: z.string(), path: z.string(), reason: z.string() }),
  z.strictObject({ ...egressBase, kind: z.literal('upstream-refused'), port: z.number().int(), reason: z.string() }),
]) satisfies z.ZodType<EgressReport>;

const timelineEntrySchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...at, kind: z.literal('lifecycle'), event: lifecycleEvent, detail: z.string().nullable() }),
  z.strictObject({ ...at, kind: z.literal('snapshot'), event: z.enum(['created', 'reverted', 'deleted', 'failed']), name: z.string(), detail: z.string().nullable() }),
  z.strictObject({ ...at, kind: z.literal('network'), action: ruleActionSchema, destination: destinationSchema, reason: z.string(), rule: z.string().nullable() }),
  z.strictObject({
    ...at,
    kind: z.literal('prompt'),
    event: z.enum(['opened', 'closed']),
    id: z.string(),
    destination: destinationSchema.nullable(),
    request: httpRequestLineSchema.optional(),
    action: ruleActionSchema.nullable(),
    reason: z.string().nullable(),
    program: z.string().nullable(),
  }),
  z.strictObject({
    ...at,
    kind: z.literal('hook'),
    type: hookTypeSchema,
    script: z.string(),
    source: hookSourceSchema,
    exitCode: z.number().int().nullable(),
    error: z.string().nullable(),
    durationMs: z.number().nonnegative().nullable(),
  }),
  z.strictObject({ ...at, kind: z.literal('egress'), report: egressReportSchema }),
]) satisfies z.ZodType<TimelineEntry>;

/** xrayEventSchema is every event the service announces, told apart by `type`. */
const xrayEventSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('vm.state'),
    vm: z.string(),
    state: vmStateSchema,
    previous: vmStateSchema,
    crash: crashReportSchema.optional(),
    stoppedBy: stopMethodSchema.optional(),
  }),
  z.strictObject({ type: z.literal('vm.diagnosis'), vm: z.string(), diagnosis: bootDiagnosisSchema }),
  z.strictObject({ type: z.literal('vm.changed'), vm: z.string() }),
  z.strictObject({ type: z.literal('vm.removed'), vm: z.string() }),
  z.strictObject({ type: z.literal('console.output'), vm: z.string(), stream: z.string(), start: count, text: z.string() }),
  z.strictObject({
    type: z.literal('base.progress'),
    name: z.string(),
    done: count,
    total: count,
    phase: z.enum(['download', 'import']).optional(),
    bytesPerSecond: z.number().nonnegative().optional(),
  }),
  z.strictObject({ type: z.literal('base.changed') }),
  z.strictObject({
    type: z.literal('snapshot.progress'),
    vm: z.string(),
    name: z.string(),
    operation: z.enum(['create', 'revert', 'delete']),
    status: z.enum(['running', 'done', 'failed']),
    error: z.string().optional(),
    description: z.string().optional(),
  }),
  z.strictObject({ type: z.literal('prompt.opened'), prompt: firewallPromptSchema }),
  z.strictObject({ type: z.literal('prompt.updated'), prompt: firewallPromptSchema, guestProcess: guestProcessSchema.optional() }),
  z.strictObject({ type: z.literal('prompt.closed'), id: z.string(), vm: z.string(), action: ruleActionSchema, reason: promptCloseReasonSchema }),
  z.strictObject({
    type: z.literal('firewall.decision'),
    vm: z.string(),
    destination: destinationSchema,
    action: ruleActionSchema,
    reason: z.string(),
    rule: z.string().nullable(),
  }),
  z.strictObject({ type: z.literal('firewall.connection'), entry: firewallLogEntrySchema }),
  z.strictObject({ type: z.literal('firewall.connections'), vm: z.string(), connections: z.array(openConnectionSchema) }),
  z.strictObject({ type: z.literal('firewall.status'), vm: z.string(), active: z.boolean() }),
  z.strictObject({ type: z.literal('hook.started'), run: hookRunSchema }),
  z.strictObject({ type: z.literal('hook.output'), vm: z.string(), script: z.string(), stream: z.enum(['stdout', 'stderr']), text: z.string() }),
  z.strictObject({ type: z.literal('hook.finished'), run: hookRunSchema }),
  z.strictObject({ type: z.literal('egress.report'), report: egressReportSchema }),
  z.strictObject({ type: z.literal('timeline.entry'), entry: timelineEntrySchema }),
  z.strictObject({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), source: z.string(), message: z.string() }),
]) satisfies z.ZodType<XrayEvent>;

/**
 * _everyEventHasASchema fails to compile when the contract gains an event
 * type that xrayEventSchema does not know: the client would refuse it.
 */
const _everyEventHasASchema: Exclude<XrayEvent['type'], z.output<typeof xrayEventSchema>['type']> extends never ? true : never = true;

const shareSchema = z.strictObject({ hostPath: z.string(), guestPath: z.string(), readOnly: z.boolean() }) satisfies z.ZodType<Share>;
const shareChangeSchema = z.strictObject({ share: shareSchema, vmRunning: z.boolean() }) satisfies z.ZodType<ShareChange>;

/** resultSchemas are the results checked on arrival: those the UI builds its views from. */
const resultSchemas = {
  'vm.list': z.array(vmSummarySchema),
  'vm.info': vmInfoSchema,
  'vm.timeline': z.array(timelineEntrySchema),
  'vm.console': z.strictObject({ stream: z.string().nullable(), end: count, text: z.string() }) satisfies z.ZodType<ConsoleScrollback>,
  'vm.create': vmSummarySchema,
  'vm.update': vmSummarySchema,
  'vm.start': vmSummarySchema,
  'vm.stop': vmStopResultSchema,
  'base.list': z.array(baseInfoSchema),
  'base.import': baseInfoSchema,
  'snapshot.list': z.array(snapshotInfoSchema),
  'snapshot.create': snapshotInfoSchema,
  'firewall.rules': z.array(firewallRuleSchema),
  'firewall.add': firewallRuleSchema,
  'firewall.log': z.array(firewallLogEntrySchema),
  'firewall.connections': z.array(openConnectionSchema),
  'port.add': portChangeSchema,
  'port.remove': portChangeSchema,
  'port.listening': z.array(guestListenerSchema).nullable(),
  'prompt.list': z.array(firewallPromptSchema),
  'share.list': z.array(shareSchema),
  'share.add': shareChangeSchema,
  'share.remove': shareChangeSchema,
} satisfies { [M in Method]?: z.ZodType<Results[M]> };

/**
 * contractProblem checks something received against its schema: null when it
 * fits, else one sentence naming what does not. `what` is an event, or the
 * result of a method (methods without a result schema pass).
 */
export function contractProblem(what: { event: unknown } | { method: Method; result: unknown }): string | null {
  const schema: z.ZodType | undefined = 'event' in what ? xrayEventSchema : (resultSchemas as Partial<Record<Method, z.ZodType>>)[what.method];
  if (!schema) return null;
  const parsed = schema.safeParse('event' in what ? what.event : what.result);
  if (parsed.success) return null;
  const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
  return `${'event' in what ? 'An event' : `The result of ${what.method}`} does not match the contract (${detail}).`;
}

// Runs in: anywhere (pure). The zod schemas of the data results and events
// carry (VMs, bases, snapshots, firewall, live view, hooks, shares), checked
// on arrival by contractProblem (schemas.ts).
import * as z from 'zod';
import { acceleratorSchema, bootProblemSchema, connectionStateSchema, guestArchSchema, hookSourceSchema, hookTypeSchema, ruleActionSchema, stopMethodSchema, vmStateSchema } from './enums';
import type { GuestListener, OpenConnection, PortChange } from './live';
import type {
  BaseInfo,
  BootDiagnosis,
  CrashReport,
  Destination,
  FirewallLogEntry,
  FirewallPrompt,
  FirewallRule,
  HookRun,
  Share,
  ShareChange,
  SnapshotInfo,
  VmInfo,
  VmStopResult,
  VmSummary,
} from './models';

/** count is a whole number of things or bytes, never negative. */
export const count = z.number().int().nonnegative();
const portMapping = z.strictObject({ host: z.number().int(), guest: z.number().int() });

/** crashReportSchema is a CrashReport: how a VM's QEMU ended unasked. */
export const crashReportSchema = z.strictObject({
  at: z.string(),
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  consoleTail: z.array(z.string()),
  stderrTail: z.array(z.string()),
}) satisfies z.ZodType<CrashReport>;

/** bootDiagnosisSchema is a BootDiagnosis: why a booting VM has not let Xray log in. */
export const bootDiagnosisSchema = z.strictObject({
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
/** vmSummarySchema is a VmSummary, as vm.list and the VM commands answer. */
export const vmSummarySchema = z.strictObject(vmSummaryShape) satisfies z.ZodType<VmSummary>;
/** vmStopResultSchema is a VmStopResult: the VM, and how vm.stop ended it. */
export const vmStopResultSchema = z.strictObject({ ...vmSummaryShape, stoppedBy: stopMethodSchema.nullable() }) satisfies z.ZodType<VmStopResult>;

/** snapshotInfoSchema is a SnapshotInfo. */
export const snapshotInfoSchema = z.strictObject({
  name: z.string(),
  date: z.string(),
  vmStateSize: count,
  hasMemory: z.boolean(),
  description: z.string().nullable(),
  auto: z.boolean().optional(),
}) satisfies z.ZodType<SnapshotInfo>;

/** vmInfoSchema is a VmInfo: the summary, config, disk chain and snapshots of one VM. */
export const vmInfoSchema = z.strictObject({
  summary: vmSummarySchema,
  config: z.record(z.string(), z.unknown()),
  diskChain: z.array(
    z.strictObject({ filename: z.string(), format: z.string(), virtualSize: count, actualSize: count, backingFilename: z.string().nullable() }),
  ),
  snapshots: z.array(snapshotInfoSchema),
  autoSnapshots: z.strictObject({ enabled: z.boolean(), fromDefault: z.boolean(), keep: count }),
}) satisfies z.ZodType<VmInfo>;

/** baseInfoSchema is a BaseInfo. */
export const baseInfoSchema = z.strictObject({
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
/** firewallRuleSchema is a FirewallRule: its target, action, lifetime and where it came from. */
export const firewallRuleSchema = z.strictObject({
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

/** destinationSchema is a Destination: the identity of one outbound connection. */
export const destinationSchema = z.strictObject({
  ip: z.string().nullable(),
  port: z.number().int(),
  name: z.string().nullable(),
  nameSource: z.enum(['socks', 'sni', 'http-host', 'dns']).nullable(),
  service: z.string().nullable(),
}) satisfies z.ZodType<Destination>;

/** guestProcessSchema is a GuestProcess: who in the guest opened a connection. */
export const guestProcessSchema = z.strictObject({ pid: z.number().int(), command: z.string(), user: z.string().nullable() });

/** httpRequestLineSchema is an HttpRequestLine: the method and path a prompt asks about. */
export const httpRequestLineSchema = z.strictObject({ method: z.string(), path: z.string() });

/** firewallPromptSchema is a FirewallPrompt. */
export const firewallPromptSchema = z.strictObject({
  id: z.string(),
  vm: z.string(),
  destination: destinationSchema,
  request: httpRequestLineSchema.optional(),
  openedAt: z.string(),
  deadline: z.string(),
  waitingConnections: count,
  guestProcess: guestProcessSchema.nullable(),
}) satisfies z.ZodType<FirewallPrompt>;

/** firewallLogEntrySchema is a FirewallLogEntry. */
export const firewallLogEntrySchema = z.strictObject({
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

/** openConnectionSchema is an OpenConnection. */
export const openConnectionSchema = z.strictObject({
  id: count,
  destination: destinationSchema,
  state: connectionStateSchema,
  bytesUp: count,
  bytesDown: count,
  openedAt: z.string(),
  reason: z.string().nullable(),
  rule: z.string().nullable(),
}) satisfies z.ZodType<OpenConnection>;

/** guestListenerSchema is a GuestListener: a TCP port the guest listens on. */
export const guestListenerSchema = z.strictObject({
  port: z.number().int(),
  addresses: z.array(z.string()),
  program: z.string().nullable(),
  reachable: z.boolean(),
}) satisfies z.ZodType<GuestListener>;

/** portChangeSchema is a PortChange: the VM's forwards after port.add or port.remove. */
export const portChangeSchema = z.strictObject({ ports: z.array(portMapping), live: z.boolean() }) satisfies z.ZodType<PortChange>;

/** hookRunSchema is a HookRun. */
export const hookRunSchema = z.strictObject({
  vm: z.string(),
  type: hookTypeSchema,
  script: z.string(),
  source: hookSourceSchema,
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  error: z.string().nullable(),
}) satisfies z.ZodType<HookRun>;

/** shareSchema is a Share. */
export const shareSchema = z.strictObject({ hostPath: z.string(), guestPath: z.string(), readOnly: z.boolean() }) satisfies z.ZodType<Share>;
/** shareChangeSchema is a ShareChange: what share.add and share.remove answer. */
export const shareChangeSchema = z.strictObject({ share: shareSchema, vmRunning: z.boolean() }) satisfies z.ZodType<ShareChange>;

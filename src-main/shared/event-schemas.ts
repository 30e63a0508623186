// Runs in: anywhere (pure). The zod schemas of everything the service
// announces (XrayEvent) and of a VM's timeline entries, which events and
// vm.timeline carry.
import * as z from 'zod';
import type { EgressReport } from './egress';
import { hookSourceSchema, hookTypeSchema, promptCloseReasonSchema, ruleActionSchema, stopMethodSchema, vmStateSchema } from './enums';
import type { XrayEvent } from './events';
import {
  bootDiagnosisSchema,
  count,
  crashReportSchema,
  destinationSchema,
  firewallLogEntrySchema,
  firewallPromptSchema,
  guestProcessSchema,
  hookRunSchema,
  httpRequestLineSchema,
  openConnectionSchema,
} from './model-schemas';
import type { TimelineEntry } from './models';

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

/** timelineEntrySchema is a TimelineEntry: one thing a VM did. */
export const timelineEntrySchema = z.discriminatedUnion('kind', [
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
export const xrayEventSchema = z.discriminatedUnion('type', [
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

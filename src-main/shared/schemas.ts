// Runs in: anywhere (pure). Checks what arrives on the wire against the
// contract: clients do in development, and the tests check everything a real
// service sends. The schemas themselves are in model-schemas.ts and event-schemas.ts.
import * as z from 'zod';
import type { Method, Results } from './contract';
import type { ConsoleScrollback } from './models';
import { timelineEntrySchema, xrayEventSchema } from './event-schemas';
import {
  baseInfoSchema,
  count,
  firewallLogEntrySchema,
  firewallPromptSchema,
  firewallRuleSchema,
  guestListenerSchema,
  openConnectionSchema,
  portChangeSchema,
  shareChangeSchema,
  shareSchema,
  snapshotInfoSchema,
  vmInfoSchema,
  vmStopResultSchema,
  vmSummarySchema,
} from './model-schemas';

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

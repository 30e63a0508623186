// Runs in: renderer. The firewall slice: the questions waiting for an answer
// (in arrival order, never twice), those abandoned unanswered, secrets refused
// on their way out, and each VM's rules (changed here, and followed as they
// change anywhere), connection log and open connections (followed while shown).
import type { XrayEvent } from '../../src-main/shared/contract';
import type { EgressReport } from '../../src-main/shared/egress';
import type { FirewallLogEntry } from '../../src-main/shared/models';
import { CallError } from '../../src-main/shared/transport';
import { LOG_LIMIT, loadEntry, message, putEntry } from './helpers';
import type { FirewallSlice, SecretRefusal, SliceContext } from './types';

type FirewallEvent = Extract<
  XrayEvent,
  { type: 'prompt.opened' | 'prompt.updated' | 'prompt.closed' | 'firewall.decision' | 'firewall.connection' | 'firewall.connections' | 'vm.changed' | 'vm.state' | 'egress.report' }
>;

/** REFUSALS_SHOWN bounds the refused secrets the window keeps: the newest, each counting its repeats. */
export const REFUSALS_SHOWN = 5;

/** firewallSlice builds the firewall slice; prompts come and go with the events (onFirewallEvent) and an answer. */
export function firewallSlice(ctx: SliceContext): FirewallSlice {
  const { client, set, get } = ctx;
  return {
    prompts: [],
    promptsError: null,
    abandonedPrompts: [],
    rules: {},
    firewallLog: {},
    connections: {},
    async refreshPrompts() {
      try {
        const listed = await client.call('prompt.list', {});
        const known = new Set(get().prompts.map((p) => p.id));
        set({ prompts: [...get().prompts, ...listed.filter((p) => !known.has(p.id))], promptsError: null });
      } catch (err) {
        set({ promptsError: message(err) });
      }
    },
    async answerPrompt(params) {
      await client.call('prompt.answer', params);
      set({ prompts: get().prompts.filter((p) => p.id !== params.id) });
    },
    clearAbandoned() {
      set({ abandonedPrompts: [] });
    },
    secretRefusals: [],
    async allowSecretHost(key) {
      const refusal = get().secretRefusals.find((r) => r.key === key);
      if (!refusal) return;
      const { vm, secret, host } = refusal.report;
      const binding = (await client.call('secret.bindings', { vm })).find((b) => b.secret === secret);
      if (!binding) throw new Error(`VM "${vm}" no longer has secret "${secret}" bound; bind it again with "xray secret bind".`);
      if (!binding.hosts.includes(host)) {
        await client.call('secret.bind', { vm, secret, hosts: [...binding.hosts, host], header: binding.header, format: binding.format, env: binding.env });
      }
      set({ secretRefusals: get().secretRefusals.map((r) => (r.key === key ? { ...r, allowed: true } : r)) });
    },
    dismissRefusal(key) {
      set({ secretRefusals: get().secretRefusals.filter((r) => r.key !== key) });
    },
    loadRules: (vm) => loadEntry(ctx, 'rules', vm, () => client.call('firewall.rules', { vm })),
    loadFirewallLog: (vm) => loadEntry(ctx, 'firewallLog', vm, () => client.call('firewall.log', { vm, limit: LOG_LIMIT })),
    followConnections: (vm) => loadEntry(ctx, 'connections', vm, () => client.call('firewall.connections', { vm, follow: true })),
    async addRule(params) {
      await client.call('firewall.add', params);
      await get().loadRules(params.vm);
    },
    async removeRule(vm, id) {
      try {
        await client.call('firewall.remove', { vm, id });
      } catch (err) {
        // The service's not-found sentence points at the command line; here the rule has simply gone (used up, expired, removed).
        if (err instanceof CallError && err.code === 'not-found') throw new Error(`VM "${vm}" has no rule "${id}" any more; it expired, was used up or was removed.`, { cause: err });
        throw err;
      } finally {
        await get().loadRules(vm);
      }
    },
    exportPolicy: (vm) => client.call('firewall.export', { vm }),
    async importPolicy(params) {
      const result = await client.call('firewall.import', params);
      if (result.applied) await get().loadRules(params.vm);
      return result;
    },
  };
}

/** refreshRules fetches a VM's rules again if they are shown (fetched before); others are fetched when their VM opens. */
function refreshRules(ctx: SliceContext, vm: string): void {
  if (ctx.get().rules[vm]) void ctx.get().loadRules(vm);
}

/**
 * usedUp tells whether a decision may have changed the rules: a rule that
 * lasts once is gone once it decided, and a rule the list does not know yet
 * was added where no event said so.
 */
function usedUp(ctx: SliceContext, vm: string, rule: string | null): boolean {
  const rules = ctx.get().rules[vm];
  if (rule === null || rules?.status !== 'ready') return false;
  const known = rules.value.find((r) => r.id === rule);
  return !known || known.lifetime.kind === 'once';
}

/** appendLog adds a decision or connection to a VM's log, keeping the latest LOG_LIMIT entries. */
function appendLog(ctx: SliceContext, vm: string, entry: FirewallLogEntry): void {
  const current = ctx.get().firewallLog[vm];
  const list = current?.status === 'ready' ? current.value : [];
  putEntry(ctx, 'firewallLog', vm, { status: 'ready', value: [...list, entry].slice(-LOG_LIMIT) });
}

/**
 * onFirewallEvent queues, updates and closes prompts (keeping the abandoned
 * ones for their notice), logs decisions and connections, and fetches a
 * VM's rules again when they may have changed: a change to the VM (a rule
 * added or removed by anyone), an answered prompt (its rule), a stop (rules
 * until then go) and a decision by a rule used up or not known here.
 */
export function onFirewallEvent(ctx: SliceContext, event: FirewallEvent): void {
  const { set, get } = ctx;
  switch (event.type) {
    case 'vm.changed':
      refreshRules(ctx, event.vm);
      return;
    case 'vm.state':
      if (event.state === 'stopped' || event.state === 'crashed') refreshRules(ctx, event.vm);
      return;
    case 'prompt.opened':
      if (!get().prompts.some((p) => p.id === event.prompt.id)) set({ prompts: [...get().prompts, event.prompt] });
      return;
    case 'prompt.updated':
      set({ prompts: get().prompts.map((p) => (p.id === event.prompt.id ? event.prompt : p)) });
      return;
    case 'prompt.closed': {
      const closed = get().prompts.find((p) => p.id === event.id);
      set({ prompts: get().prompts.filter((p) => p.id !== event.id) });
      if (closed && event.reason === 'abandoned') set({ abandonedPrompts: [...get().abandonedPrompts, closed] });
      if (event.reason === 'answered') refreshRules(ctx, event.vm);
      return;
    }
    case 'firewall.decision':
      if (usedUp(ctx, event.vm, event.rule)) refreshRules(ctx, event.vm);
      appendLog(ctx, event.vm, { at: new Date().toISOString(), vm: event.vm, kind: 'decision', destination: event.destination, action: event.action, reason: event.reason });
      return;
    case 'firewall.connection':
      appendLog(ctx, event.entry.vm, event.entry);
      return;
    case 'egress.report':
      if (event.report.kind === 'secret-refused') set({ secretRefusals: withRefusal(get().secretRefusals, event.report) });
      return;
    case 'firewall.connections':
      putEntry(ctx, 'connections', event.vm, { status: 'ready', value: event.connections });
      return;
  }
}

/**
 * withRefusal adds a refused secret to those shown: a repeat (same VM,
 * secret, host and place) counts on its notice, and asks again if the host
 * was allowed since; past REFUSALS_SHOWN the oldest goes.
 */
function withRefusal(shown: readonly SecretRefusal[], report: Extract<EgressReport, { kind: 'secret-refused' }>): SecretRefusal[] {
  const key = [report.vm, report.secret, report.host, report.place, report.header ?? ''].join('\u0000');
  const known = shown.find((r) => r.key === key);
  const others = shown.filter((r) => r.key !== key);
  return [...others, { key, report, count: (known?.count ?? 0) + 1, allowed: false }].slice(-REFUSALS_SHOWN);
}

// Runs in: renderer. The firewall slice: the questions waiting for an answer
// (in arrival order, never twice), those abandoned unanswered, and each VM's
// rules and connection log.
import type { XrayEvent } from '../../src-main/shared/contract';
import type { FirewallLogEntry } from '../../src-main/shared/models';
import { LOG_LIMIT, loadEntry, message, putEntry } from './helpers';
import type { FirewallSlice, SliceContext } from './types';

type FirewallEvent = Extract<XrayEvent, { type: 'prompt.opened' | 'prompt.updated' | 'prompt.closed' | 'firewall.decision' | 'firewall.connection' }>;

/** firewallSlice builds the firewall slice; prompts come and go with the events (onFirewallEvent) and an answer. */
export function firewallSlice(ctx: SliceContext): FirewallSlice {
  const { client, set, get } = ctx;
  return {
    prompts: [],
    promptsError: null,
    abandonedPrompts: [],
    rules: {},
    firewallLog: {},
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
    loadRules: (vm) => loadEntry(ctx, 'rules', vm, () => client.call('firewall.rules', { vm })),
    loadFirewallLog: (vm) => loadEntry(ctx, 'firewallLog', vm, () => client.call('firewall.log', { vm, limit: LOG_LIMIT })),
  };
}

/** appendLog adds a decision or connection to a VM's log, keeping the latest LOG_LIMIT entries. */
function appendLog(ctx: SliceContext, vm: string, entry: FirewallLogEntry): void {
  const current = ctx.get().firewallLog[vm];
  const list = current?.status === 'ready' ? current.value : [];
  putEntry(ctx, 'firewallLog', vm, { status: 'ready', value: [...list, entry].slice(-LOG_LIMIT) });
}

/** onFirewallEvent queues, updates and closes prompts (keeping the abandoned ones for their notice) and logs decisions and connections. */
export function onFirewallEvent(ctx: SliceContext, event: FirewallEvent): void {
  const { set, get } = ctx;
  switch (event.type) {
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
      return;
    }
    case 'firewall.decision':
      appendLog(ctx, event.vm, { at: new Date().toISOString(), vm: event.vm, kind: 'decision', destination: event.destination, action: event.action, reason: event.reason });
      return;
    case 'firewall.connection':
      appendLog(ctx, event.entry.vm, event.entry);
      return;
  }
}

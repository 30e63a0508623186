// Runs in: renderer. The app's state: what Xray reported, kept up to date by
// its events, in one zustand store built from slices (navigation, vms,
// detail, console, timeline, firewall, imports, pulls, messages). Views select data
// and call actions; every event, the API's and the renderer's own, goes
// through handleEvent, which hands it to the slice it concerns.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { XrayClient } from '../client/types';
import { consoleSlice } from './console';
import { detailSlice, onDetailEvent } from './detail';
import { firewallSlice, onFirewallEvent } from './firewall';
import { importsSlice, onImportEvent } from './imports';
import { messagesSlice, onLogEvent } from './messages';
import { navigationSlice } from './navigation';
import { onPullEvent, pullsSlice } from './pulls';
import { onTimelineEvent, timelineSlice } from './timeline';
import type { SliceContext, StoreEvent, XrayState } from './types';
import { onVmEvent, vmsSlice } from './vms';

/** XrayStore is the one store the views read through XrayProvider. */
export type XrayStore = StoreApi<XrayState>;

/** applyEvent routes one event to the slice whose state it moves. */
function applyEvent(ctx: SliceContext, event: StoreEvent): void {
  switch (event.type) {
    case 'vm.changed':
      onDetailEvent(ctx, event);
      onVmEvent(ctx, event);
      return onFirewallEvent(ctx, event);
    case 'vm.state':
      onVmEvent(ctx, event);
      return onFirewallEvent(ctx, event);
    case 'vm.removed':
    case 'vm.diagnosis':
    case 'firewall.status':
      return onVmEvent(ctx, event);
    case 'snapshot.progress':
    case 'hook.started':
    case 'hook.finished':
    case 'hook.output':
      return onDetailEvent(ctx, event);
    case 'prompt.opened':
    case 'prompt.updated':
    case 'prompt.closed':
    case 'firewall.decision':
    case 'firewall.connection':
    case 'egress.report':
    case 'firewall.connections':
      return onFirewallEvent(ctx, event);
    case 'base.changed':
      onImportEvent(ctx, event);
      return onPullEvent(ctx, event);
    case 'base.progress':
      // An import's progress has no phase; a pull's is a download, then an import.
      return event.phase === undefined ? onImportEvent(ctx, event) : onPullEvent(ctx, event);
    case 'pull.started':
    case 'pull.cancelling':
    case 'pull.finished':
    case 'pull.dismissed':
      return onPullEvent(ctx, event);
    case 'import.started':
    case 'import.uploaded':
    case 'import.importing':
    case 'import.finished':
    case 'import.dismissed':
      return onImportEvent(ctx, event);
    case 'timeline.entry':
      return onTimelineEvent(ctx, event);
    case 'console.output':
      return ctx.get().onConsoleOutput(event);
    case 'log':
      return onLogEvent(ctx, event);
  }
}

/** createXrayStore builds the store over one client; connectStore feeds it the client's events. */
export function createXrayStore(client: XrayClient): XrayStore {
  return createStore<XrayState>()((set, get) => {
    const ctx: SliceContext = { client, set, get };
    return {
      ...navigationSlice(ctx),
      ...vmsSlice(ctx),
      ...detailSlice(ctx),
      ...consoleSlice(ctx),
      ...timelineSlice(ctx),
      ...firewallSlice(ctx),
      ...importsSlice(ctx),
      ...pullsSlice(ctx),
      ...messagesSlice(ctx),
      handleEvent: (event) => applyEvent(ctx, event),
    };
  });
}

/** connectStore feeds the client's events into the store; returns the unsubscribe. */
export function connectStore(store: XrayStore, client: XrayClient): () => void {
  return client.subscribe((event) => store.getState().handleEvent(event));
}

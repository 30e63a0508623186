// Runs in: renderer. The messages slice: what Xray warned about or failed at
// with nobody asking — a VM autostart could not start, a hook that failed, a
// VM's rules it could not read, a VM moved to a free SSH port, a guest running
// without acceleration. The CLI prints these; the window keeps them until
// dismissed. The same sentence again counts up instead of stacking.
import type { XrayEvent } from '../../src-main/shared/contract';
import type { MessagesSlice } from './message-types';
import type { SliceContext } from './types';

/** MESSAGES_SHOWN bounds the messages the window keeps: the newest, each counting its repeats. */
export const MESSAGES_SHOWN = 4;

export function messagesSlice({ set, get }: SliceContext): MessagesSlice {
  return {
    messages: [],
    dismissMessage(key) {
      set({ messages: get().messages.filter((m) => m.key !== key) });
    },
  };
}

/** onLogEvent keeps a warning or error; a repeat moves to the end with its count raised. */
export function onLogEvent({ set, get }: SliceContext, event: Extract<XrayEvent, { type: 'log' }>): void {
  if (event.level === 'info') return;
  const key = `${event.level}\n${event.message}`;
  const messages = get().messages;
  const same = messages.find((m) => m.key === key);
  const message = { key, level: event.level, source: event.source, text: event.message, count: (same?.count ?? 0) + 1 };
  set({ messages: [...messages.filter((m) => m !== same), message].slice(-MESSAGES_SHOWN) });
}

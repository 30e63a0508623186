// Runs in: renderer. The console slice: feeds a terminal a VM's serial
// console (its scrollback, then its output as console.output events bring
// it) and sends what is typed, in order. The text itself stays out of the
// store: the terminal that shows it is where it lives.
import { ConsoleFollower, consoleInputChunks, type ConsoleOutput, type ConsoleView } from '../../src-main/shared/console';
import type { ConsoleSlice, SliceContext } from './types';

/** Typing is one VM's input: what waits to be sent, and the send under way. */
interface Typing {
  pending: string;
  sending: Promise<void> | null;
}

/** consoleSlice builds the console slice; followers and typing are per store, not state. */
export function consoleSlice({ client }: SliceContext): ConsoleSlice {
  const followers = new Map<string, Set<ConsoleFollower>>();
  const typing = new Map<string, Typing>();

  /**
   * send sends what waits for a VM, one call at a time so keys reach the
   * guest in the order typed (browser mode's calls are separate requests
   * that could overtake each other); keys typed during a call go together
   * in the next one.
   */
  async function send(vm: string, entry: Typing): Promise<void> {
    try {
      while (entry.pending !== '') {
        const data = entry.pending;
        entry.pending = '';
        for (const chunk of consoleInputChunks(data)) await client.call('vm.consoleInput', { name: vm, data: chunk });
      }
    } finally {
      entry.pending = '';
      entry.sending = null;
    }
  }

  return {
    attachConsole(vm: string, view: ConsoleView & { failed(message: string): void }) {
      const fetch = () =>
        client.call('vm.console', { name: vm }).then(
          (scrollback) => follower.scrollback(scrollback),
          (err: unknown) => {
            follower.failed();
            view.failed(err instanceof Error ? err.message : String(err));
          },
        );
      const follower = new ConsoleFollower(view, () => void fetch());
      const set = followers.get(vm) ?? new Set();
      set.add(follower);
      followers.set(vm, set);
      void fetch();
      return () => {
        set.delete(follower);
        if (set.size === 0) followers.delete(vm);
      };
    },
    typeIntoConsole(vm, data) {
      const entry = typing.get(vm) ?? { pending: '', sending: null };
      typing.set(vm, entry);
      entry.pending += data;
      entry.sending ??= send(vm, entry);
      return entry.sending;
    },
    onConsoleOutput(event: ConsoleOutput) {
      for (const follower of followers.get(event.vm) ?? []) follower.output(event);
    },
  };
}

// Runs in: anywhere (pure). A VM's serial console as its readers see it: the
// limits, and how a reader keeps a scrollback and live output in step.
import type { XrayEvent } from './contract';
import { XrayError } from './errors';
import type { ConsoleScrollback } from './models';

/** CONSOLE_INPUT_MAX_CHARS bounds one vm.consoleInput; a longer paste goes as several (consoleInputChunks). */
export const CONSOLE_INPUT_MAX_CHARS = 4096;

/** CONSOLE_SCROLLBACK_CHARS is how much of a console vm.console returns: the end, from a line's start. */
export const CONSOLE_SCROLLBACK_CHARS = 256 * 1024;

export type ConsoleOutput = Extract<XrayEvent, { type: 'console.output' }>;

/** ConsoleView is where a reader shows a console: a terminal, or a CLI's stdout. */
export interface ConsoleView {
  /** reset shows a scrollback in place of what was shown: the first one, a new run of the VM, or after missed output. */
  reset(text: string): void;
  /** write adds output after what is shown. */
  write(text: string): void;
}

/**
 * ConsoleFollower keeps a view of one VM's console in step with the API:
 * output that arrives while a scrollback is being fetched waits for it, and
 * positions say what the scrollback already held, so no output is shown
 * twice or lost (events and replies may cross on some transports). Output
 * from another stream (the VM started again, or a new supervisor adopted it)
 * or after a gap asks for a new scrollback through `fetch`, which answers
 * with scrollback() or failed().
 */
export class ConsoleFollower {
  private stream: string | null = null;
  private end = 0;
  /** waiting holds output that arrived while a scrollback is on its way; null when none is. */
  private waiting: ConsoleOutput[] | null = [];

  constructor(
    private readonly view: ConsoleView,
    private readonly fetch: () => void,
  ) {}

  /** scrollback shows a fetched scrollback, then the output that waited for it. */
  scrollback(scrollback: ConsoleScrollback): void {
    const waiting = this.waiting ?? [];
    this.waiting = null;
    this.stream = scrollback.stream;
    this.end = scrollback.end;
    this.view.reset(scrollback.text);
    for (const output of waiting) this.output(output);
  }

  /** failed forgets a fetch that did not answer; the next output asks again. */
  failed(): void {
    this.waiting = null;
    this.stream = null;
  }

  /** output shows what a console.output event adds, if this view has not shown it yet. */
  output(output: ConsoleOutput): void {
    if (this.waiting) {
      this.waiting.push(output);
      return;
    }
    if (output.stream !== this.stream || output.start > this.end) {
      this.waiting = [output];
      this.fetch();
      return;
    }
    const shown = this.end - output.start;
    if (shown >= output.text.length) return;
    this.view.write(shown > 0 ? output.text.slice(shown) : output.text);
    this.end = output.start + output.text.length;
  }
}

/** consoleInputChunks splits typed or pasted text into pieces vm.consoleInput takes, never inside a surrogate pair. */
export function consoleInputChunks(data: string): string[] {
  const chunks: string[] = [];
  let at = 0;
  while (at < data.length) {
    let end = Math.min(at + CONSOLE_INPUT_MAX_CHARS, data.length);
    const last = data.charCodeAt(end - 1);
    if (end < data.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    chunks.push(data.slice(at, end));
    at = end;
  }
  return chunks;
}

/**
 * fromLineStart drops the first `cut` characters of a console's text and the
 * rest of a line they end inside (so a kept end does not open inside a line
 * or a colour sequence), unless that line runs on for more than 1 KiB.
 */
export function fromLineStart(text: string, cut: number): string {
  const newline = text.indexOf('\n', cut - 1);
  return text.slice(newline >= 0 && newline - cut < 1024 ? newline + 1 : cut);
}

/** consoleNotRunning refuses input to a VM that has no QEMU. */
export function consoleNotRunning(vm: string): XrayError {
  return new XrayError('invalid-argument', `VM "${vm}" is not running, so its console takes no input; start it first.`, {
    cli: `VM "${vm}" is not running, so its console takes no input; start it with "xray start ${vm}".`,
  });
}

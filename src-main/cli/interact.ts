// Runs in: plain Node (CLI). Talking with a person at a terminal: questions,
// choices, single keys and a progress bar.
import type { Readable, Writable } from 'node:stream';
import { XrayError } from '../shared/errors';

/** Terminal is where a person may be: stdin with raw mode when it is a TTY, and stdout. */
export interface Terminal {
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  readonly stdout: Writable & { isTTY?: boolean; columns?: number };
}

export function isInteractive(term: Terminal): boolean {
  return Boolean(term.stdin.isTTY && term.stdout.isTTY);
}

/** INTERRUPT_KEYS end a raw-mode read: Ctrl-C (raw mode sends no SIGINT) and Ctrl-D. */
const INTERRUPT_KEYS = new Set(['\x03', '\x04']);

/**
 * readKeys calls onKey with each key pressed, without waiting for Enter on a
 * TTY (raw mode); from a pipe it reads whole lines, trimmed, so scripts can
 * feed it. done resolves when input ends or Ctrl-C/Ctrl-D is pressed; stop
 * gives the terminal back.
 */
export function readKeys(term: Terminal, onKey: (key: string) => void): { done: Promise<void>; stop: () => void } {
  const { stdin } = term;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  if (stdin.isTTY && stdin.setRawMode) {
    const onData = (chunk: Buffer | string) => {
      for (const key of String(chunk)) {
        if (INTERRUPT_KEYS.has(key)) return finish();
        onKey(key);
      }
    };
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.once('end', () => finish());
    stdin.resume();
    return {
      done,
      stop: () => {
        stdin.off('data', onData);
        stdin.setRawMode?.(false);
        stdin.pause();
        finish();
      },
    };
  }
  const lines = process.getBuiltinModule('node:readline').createInterface({ input: stdin });
  lines.on('line', (line) => onKey(line.trim()));
  lines.once('close', () => finish());
  return {
    done,
    stop: () => {
      lines.close();
      finish();
    },
  };
}

/** confirm asks a yes/no question; anything but y/yes is no. */
export async function confirm(term: Terminal, question: string): Promise<boolean> {
  const rl = readLines(term);
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * confirmOrForce goes ahead when forced or when the person agrees; without a
 * terminal to ask on it refuses, naming --force (destructive commands never
 * act unasked in a script).
 */
export async function confirmOrForce(term: Terminal, force: boolean | undefined, question: string): Promise<void> {
  if (force) return;
  if (!isInteractive(term)) {
    throw new XrayError('invalid-argument', `${question.replace(/\?.*$/, '')}: not asking without a terminal; pass --force to go ahead.`);
  }
  if (!(await confirm(term, question))) throw new XrayError('cancelled', 'Nothing was changed.');
}

/** pick lets a person choose one of `choices` by number. */
export async function pick(term: Terminal, title: string, choices: readonly string[]): Promise<string> {
  if (choices.length === 0) throw new XrayError('not-found', 'There is nothing to choose from.');
  term.stdout.write(`${title}\n`);
  choices.forEach((choice, i) => term.stdout.write(`  ${i + 1}) ${choice}\n`));
  const rl = readLines(term);
  try {
    for (;;) {
      const answer = (await rl.question(`Choose 1-${choices.length}: `)).trim();
      const index = Number.parseInt(answer, 10);
      if (String(index) === answer && index >= 1 && index <= choices.length) return choices[index - 1]!;
      if (answer === '') throw new XrayError('cancelled', 'Nothing was chosen.');
      term.stdout.write(`"${answer}" is not a number from 1 to ${choices.length}.\n`);
    }
  } finally {
    rl.close();
  }
}

/** ProgressBar draws one self-updating line on a terminal, and nothing elsewhere. */
export class ProgressBar {
  private lastDraw = 0;

  constructor(
    private readonly out: Writable & { isTTY?: boolean; columns?: number },
    private readonly label: string,
  ) {}

  /** update redraws the bar; `detail` (sizes, rate, time left) follows it when there is room. */
  update(done: number, total: number, detail = ''): void {
    if (!this.out.isTTY) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < total) return;
    this.lastDraw = now;
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const columns = this.out.columns ?? 80;
    const width = Math.max(10, Math.min(40, columns - this.label.length - 12));
    const filled = Math.round(fraction * width);
    const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%${detail ? `  ${detail}` : ''}`;
    this.out.write(`\r${line.slice(0, columns - 1)}\x1b[K`);
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}

/**
 * readSecret reads a secret without showing it: on a terminal it asks and
 * reads keys with echo off (Backspace erases, Ctrl-C or Ctrl-D gives up);
 * from a pipe it takes all of stdin. It never comes from the command line,
 * where every user of the machine could read it.
 */
export async function readSecret(term: Terminal, question: string): Promise<string> {
  const { stdin, stdout } = term;
  if (!(stdin.isTTY && stdin.setRawMode)) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  stdout.write(question);
  let typed = '';
  const { done, stop } = readKeys(term, (key) => {
    if (key === '\r' || key === '\n') stop();
    else if (key === '\x7f' || key === '\b') typed = typed.slice(0, -1);
    else typed += key;
  });
  await done;
  stop();
  stdout.write('\n');
  if (typed === '') throw new XrayError('cancelled', 'No secret was typed; nothing was stored.');
  return typed;
}

/** readLines asks on the terminal; node:readline is loaded only by commands that ask (process.getBuiltinModule). */
function readLines(term: Terminal) {
  return process.getBuiltinModule('node:readline/promises').createInterface({ input: term.stdin, output: term.stdout });
}

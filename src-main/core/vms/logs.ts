// Runs in: plain Node (core).
import { open } from 'node:fs/promises';
import { CONSOLE_SCROLLBACK_CHARS, fromLineStart } from '../../shared/console';
import type { ConsoleScrollback } from '../../shared/models';

/** endOf returns up to `bytes` from the end of a file, and whether the file held more; empty when it is missing. */
async function endOf(path: string, bytes: number): Promise<{ text: string; cut: boolean }> {
  try {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, bytes);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return { text: buffer.toString('utf8'), cut: size > length };
    } finally {
      await handle.close();
    }
  } catch {
    return { text: '', cut: false };
  }
}

/** tailOf returns the last lines of a log, reading only its end (console logs grow large). */
export async function tailOf(path: string, lines: number): Promise<string[]> {
  const { text } = await endOf(path, 64 * 1024);
  return text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l !== '')
    .slice(-lines);
}

/** consoleTail is the end of a stopped VM's console.log as vm.console gives it: no live stream, from a line's start. */
export async function consoleTail(path: string): Promise<ConsoleScrollback> {
  const end = await endOf(path, CONSOLE_SCROLLBACK_CHARS);
  const text = end.cut ? fromLineStart(end.text, 0) : end.text;
  return { stream: null, end: text.length, text };
}

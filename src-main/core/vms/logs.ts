// Runs in: plain Node (core).
import { open } from 'node:fs/promises';

/** tailOf returns the last lines of a log, reading only its end (console logs grow large). */
export async function tailOf(path: string, lines: number): Promise<string[]> {
  const TAIL_BYTES = 64 * 1024;
  try {
    const handle = await open(path, 'r');
    let text: string;
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      text = buffer.toString('utf8');
    } finally {
      await handle.close();
    }
    return text
      .split(/\r?\n/)
      .map((l) => l.trimEnd())
      .filter((l) => l !== '')
      .slice(-lines);
  } catch {
    return [];
  }
}


// Runs in: plain Node (core).
import { readFile } from 'node:fs/promises';
import { freemem } from 'node:os';

/**
 * availableMemoryMb is memory a new VM can take without pushing the host into
 * swap: MemAvailable on Linux (free memory alone ignores reclaimable cache),
 * os.freemem elsewhere.
 */
export async function availableMemoryMb(): Promise<number> {
  try {
    const meminfo = await readFile('/proc/meminfo', 'utf8');
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo);
    if (match) return Math.floor(Number(match[1]) / 1024);
  } catch {
    // Not Linux: fall through.
  }
  return Math.floor(freemem() / (1024 * 1024));
}

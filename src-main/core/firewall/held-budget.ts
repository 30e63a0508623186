// Runs in: plain Node (core). How many connections all VMs together may hold
// on prompts, from this process's file descriptor limit.
import { readFileSync } from 'node:fs';

/**
 * heldConnectionBudget is how many connections all VMs together may hold on
 * prompts: a quarter of this process's file descriptor limit, so relayed
 * connections (two descriptors each), QEMU's sockets and the control socket
 * keep the rest. The limit is read where Linux shows it; elsewhere Node has
 * raised it to at least 10240 (macOS's OPEN_MAX) at start-up.
 */
export function heldConnectionBudget(limitsFile = '/proc/self/limits'): number {
  let limit = 10_240;
  try {
    const line = readFileSync(limitsFile, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    if (Number.isInteger(soft) && soft > 0) limit = soft;
  } catch {
    // Not Linux: keep the macOS figure.
  }
  return Math.max(64, Math.floor(limit / 4));
}

// Runs in: plain Node (core).
import { readFile } from 'node:fs/promises';
import { childProcess } from '../builtins';

/**
 * commandLineOf reads a process's command line: /proc on Linux, ps elsewhere.
 * Adoption uses it to check that a pid from a pid file really is that VM's
 * QEMU and not an unrelated process that reused the pid.
 */
export async function commandLineOf(pid: number): Promise<string | null> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
  } catch {
    return new Promise((resolve) => {
      childProcess().execFile('ps', ['-ww', '-o', 'command=', '-p', String(pid)], { timeout: 3000 }, (err, stdout) => {
        resolve(err ? null : stdout.trim() || null);
      });
    });
  }
}

/** isQemuFor tells whether `pid` is a QEMU serving `qmpSocket`. */
export async function isQemuFor(pid: number, qmpSocket: string): Promise<boolean> {
  const line = await commandLineOf(pid);
  return line !== null && /qemu-system-/.test(line) && line.includes(qmpSocket);
}

// Runs in: plain Node (core).
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isProcessAlive } from '../vms/runtime';

/**
 * SupervisorLock makes one process the supervisor of an XRAY_HOME. The lock
 * file holds the owner's pid; a lock whose pid is dead is stale and taken over.
 */
export class SupervisorLock {
  private constructor(private readonly path: string) {}

  /** acquire returns the lock, or null with the holder's pid when another live process has it. */
  static async acquire(path: string): Promise<{ lock: SupervisorLock | null; holder: number | null }> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await open(path, 'wx', 0o600);
        await handle.writeFile(`${process.pid}\n`);
        await handle.close();
        return { lock: new SupervisorLock(path), holder: null };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await readHolder(path);
      if (holder !== null && isProcessAlive(holder)) return { lock: null, holder };
      await rm(path, { force: true });
    }
    return { lock: null, holder: await readHolder(path) };
  }

  async release(): Promise<void> {
    if ((await readHolder(this.path)) === process.pid) await rm(this.path, { force: true });
  }
}

async function readHolder(path: string): Promise<number | null> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

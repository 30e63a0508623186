// Runs in: plain Node (core).
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { VmPaths } from '../paths';

/** isProcessAlive tells whether a pid exists (signal 0 probes without signalling). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** readLivePid returns the pid in the VM's pid file when that process is alive. */
export function readLivePid(vm: VmPaths): number | null {
  let text: string;
  try {
    // A pid file is a few bytes; a sync read is cheaper than a thread-pool round trip,
    // and listing VMs reads one for each.
    // Most VMs are stopped and have none: asking first spares the thrown error.
    if (!existsSync(vm.pid)) return null;
    text = readFileSync(vm.pid, 'utf8');
  } catch {
    return null;
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (!Number.isSafeInteger(pid) || pid <= 1) return null;
  return isProcessAlive(pid) ? pid : null;
}

/** removeRuntimeFiles deletes pid and socket files; called however a VM stopped. */
export async function removeRuntimeFiles(vm: VmPaths): Promise<void> {
  await Promise.all(vm.runtimeFiles.map((file) => rm(file, { force: true })));
}

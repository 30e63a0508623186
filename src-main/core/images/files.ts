// Runs in: plain Node (core).
import { link, lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { XrayError } from '../../shared/errors';
import { tempTag } from '../builtins';

/**
 * partialPath names the temporary file an image is written to before it is
 * published: hidden, beside `dest` (so publishing is a rename on one file
 * system) and tagged (so two imports never share one).
 */
export function partialPath(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.partial-${tempTag()}`);
}

/** pathExists is true for anything at `path`, a dangling symlink included. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/**
 * publishNoClobber moves the finished file `tmp` to `dest` unless something is
 * already there. A hard link fails atomically when `dest` exists, which a
 * rename (that replaces `dest`) cannot do; on file systems without hard links
 * it falls back to check-then-rename. `exists` builds the error for a taken name.
 */
export async function publishNoClobber(tmp: string, dest: string, exists: () => XrayError): Promise<void> {
  try {
    await link(tmp, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') throw exists();
    if (!NO_HARD_LINKS.has(code)) throw err;
    if (await pathExists(dest)) throw exists();
    await rename(tmp, dest);
    return;
  }
  await unlink(tmp);
}

/** syncFile flushes a file another program (qemu-img) or a clone wrote, before it is published. */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

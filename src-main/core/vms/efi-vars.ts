// Runs in: plain Node (core).
import { constants } from 'node:fs';
import { chmod, copyFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { XrayError } from '../../shared/errors';
import { createEfiVars, type QemuImg } from '../images';

/** efi-vars gives each new VM its own UEFI variable store, copied from a cached conversion of the firmware's template. */

/**
 * materializeEfiVars gives a new VM its own UEFI variable store. The qcow2
 * conversion of the firmware's template is done once and cached under
 * `cacheDir`; each VM gets a copy (a copy-on-write clone where the filesystem
 * has them), which keeps create about as fast as the overlay's `qemu-img
 * create` alone.
 */
export async function materializeEfiVars(cacheDir: string, template: string, dest: string, qemuImg: QemuImg): Promise<void> {
  const info = await stat(template);
  // The template file's device and inode, size and time name its conversion.
  const key = `${info.dev}-${info.ino}-${info.size}-${Math.trunc(info.mtimeMs)}`;
  const cached = join(cacheDir, 'efivars', `${key}.qcow2`);
  if (!(await stat(cached).then(() => true, () => false))) {
    try {
      await createEfiVars(template, cached, qemuImg);
    } catch (err) {
      if (!(err instanceof XrayError && err.code === 'already-exists')) throw err;
    }
  }
  await copyFile(cached, dest, constants.COPYFILE_FICLONE);
  await chmod(dest, 0o600);
}

// Runs in: plain Node (core).
import { rm, symlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { XrayError } from '../../shared/errors';
import { childProcess } from '../builtins';
import type { ConsolePipePaths } from '../paths';

/**
 * makeConsolePipe prepares the files of a serial console's pipe chardev
 * before QEMU is launched: `input`, a FIFO only this user may open, and
 * `output`, a link to /dev/null. QEMU opens both read-write, so it neither
 * blocks nor sees the end of its input when no supervisor holds the FIFO,
 * and a new supervisor can type into it after the old one died. Its output
 * is read from the logfile instead of a second FIFO: one that nobody read
 * between two supervisors would fill, and QEMU's serial port drops what it
 * cannot write, from the log too.
 */
export async function makeConsolePipe(paths: ConsolePipePaths): Promise<void> {
  await rm(paths.input, { force: true });
  await rm(paths.output, { force: true });
  // Node has no mkfifo(2); the mkfifo program is in every Linux and macOS base system.
  await promisify(childProcess().execFile)('mkfifo', ['-m', '600', paths.input]).catch((err: Error) => {
    throw new XrayError('resource', `Could not make the console's input pipe ${paths.input} (${err.message.trim()}); check that the VM's directory is writable.`, { cause: err });
  });
  await symlink('/dev/null', paths.output);
}

// Runs in: plain Node (core).
import { chmod, lstat, mkdir } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import { XrayError } from '../shared/errors';
import { shortRuntimeBase } from './paths';

/**
 * prepareSocketDir makes sure the directory of a socket Xray is about to
 * create (or have QEMU create) exists and is the user's own. Sockets inside
 * XRAY_HOME need nothing; sockets moved to the short runtime directory
 * (paths.ts) live in a directory another user could have made first, and
 * would then own what is inside: a fake supervisor, a proxy that lets a
 * guest out. So each level is created 0700, and one that is a symbolic link,
 * belongs to someone else or is open to others is refused with one sentence.
 */
export async function prepareSocketDir(socket: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const base = shortRuntimeBase(env);
  const dir = dirname(socket);
  if (dir !== base && !dir.startsWith(base + sep)) return;
  await mkdir(dirname(base), { recursive: true });
  await ownPrivateDir(base);
  if (dir !== base) await ownPrivateDir(dir);
}

async function ownPrivateDir(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const info = await lstat(path);
  const uid = typeof process.getuid === 'function' ? process.getuid() : info.uid;
  const refuse = (why: string): XrayError =>
    new XrayError(
      'in-use',
      `${path} ${why}, so Xray will not put its sockets there; remove it, or give XRAY_HOME a shorter path so sockets fit inside it.`,
    );
  if (info.isSymbolicLink() || !info.isDirectory()) throw refuse('is not a plain directory');
  if (info.uid !== uid) throw refuse(`belongs to another user (uid ${info.uid})`);
  if ((info.mode & 0o077) !== 0) await chmod(path, 0o700);
}

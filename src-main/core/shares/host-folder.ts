// Runs in: plain Node (core).
import { realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, relative, sep } from 'node:path';
import type { Share } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { SHARE_LIMITS } from '../../shared/shares';
import { nodeCrypto } from '../builtins';

/**
 * host-folder decides which host folders a VM may see. The guest is
 * untrusted, so a share is refused when it would hand the guest the whole
 * computer (/), the user's home as a whole (SSH keys, credentials, and
 * usually XRAY_HOME), or Xray's own home (every VM's disks, keys and
 * secrets), or a folder that holds one of those. Symbolic links are resolved
 * first, so a link cannot smuggle any of them in.
 */

export interface HostFolderRules {
  /** xrayHome is XRAY_HOME. */
  readonly xrayHome: string;
  /** userHome is the host user's home directory (default: os.homedir()). */
  readonly userHome?: string;
}

/** isInside tells whether `path` is `dir` or below it (both absolute and resolved). */
function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** resolved is a path's real location, or the path itself when it does not exist (yet). */
async function resolved(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

/**
 * checkHostFolder returns the real path of a folder a VM may be given, or
 * throws the sentence that says why not: not absolute, missing, not a
 * folder, or one of the refused places.
 */
export async function checkHostFolder(path: string, rules: HostFolderRules): Promise<string> {
  if (!isAbsolute(path)) throw new XrayError('invalid-argument', `The folder to share must be an absolute path; "${path}" is not.`);
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new XrayError('not-found', `${path} does not exist; create the folder first or check the path.`);
    throw new XrayError('invalid-argument', `${path} cannot be read (${(err as Error).message}); check its permissions.`);
  }
  if (!(await stat(real)).isDirectory()) throw new XrayError('invalid-argument', `${path} is not a folder; share a folder.`);
  if (real.length > SHARE_LIMITS.pathLength) throw new XrayError('invalid-argument', `${path} is longer than ${SHARE_LIMITS.pathLength} characters; share a folder with a shorter path.`);
  const shown = real === path ? path : `${path} (${real})`;
  if (real === '/') {
    throw new XrayError('invalid-argument', `${shown} cannot be shared: it would give the VM every file on this computer; share a project folder instead.`);
  }
  const xrayHome = await resolved(rules.xrayHome);
  if (isInside(real, xrayHome)) {
    throw new XrayError('invalid-argument', `${shown} cannot be shared: it is in Xray's home (${rules.xrayHome}), which holds every VM's disks, SSH keys and secrets; share a project folder instead.`);
  }
  if (isInside(xrayHome, real)) {
    throw new XrayError('invalid-argument', `${shown} cannot be shared: it contains Xray's home (${rules.xrayHome}), which holds every VM's disks, SSH keys and secrets; share a project folder inside it instead.`);
  }
  const userHome = await resolved(rules.userHome ?? homedir());
  if (isInside(userHome, real)) {
    throw new XrayError('invalid-argument', `${shown} cannot be shared as a whole: it ${real === userHome ? 'is' : 'contains'} your home folder, with your SSH keys, credentials and settings; share a project folder inside it instead.`);
  }
  return real;
}

/**
 * shareTag is the virtio-9p mount tag of a share: a digest of everything
 * that makes it what it is. The boot hook mounts a share only when the
 * running QEMU offers its tag, so a share added, changed or removed since the
 * VM started waits for the next start instead of being mounted differently
 * from what QEMU was given. Short, because Linux reads at most 31 characters
 * of a tag on some versions.
 */
export function shareTag(share: Share): string {
  const digest = nodeCrypto().createHash('sha256').update(`${share.hostPath}\0${share.guestPath}\0${share.readOnly ? 'ro' : 'rw'}`).digest('hex');
  return `xray-${digest.slice(0, 16)}`;
}

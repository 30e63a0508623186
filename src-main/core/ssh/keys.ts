// Runs in: plain Node (core).
import { randomBytes } from 'node:crypto';
import { link, readFile, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';

import { XrayError } from '../../shared/errors';
import { ssh2 } from './library';
import type { VmPaths } from '../paths';
import { writeFileAtomic } from '../store/toml-file';

/** SshKey is the private key Xray logs in with and the public line cloud-init installs. */
export interface SshKey {
  readonly privateKeyPath: string;
  readonly publicKey: string;
}

/**
 * ensureVmKey returns the VM's own ed25519 key pair (vms/NAME/id_ed25519 and
 * .pub), generating it on first use. A per-VM key means a leaked guest never
 * holds a key that opens any other VM or host.
 */
export async function ensureVmKey(vm: VmPaths): Promise<SshKey> {
  const privateKeyPath = vm.sshKey;
  const publicPath = `${privateKeyPath}.pub`;
  if (!(await exists(privateKeyPath))) {
    await createExclusive(privateKeyPath, generateEd25519().private);
  }
  if (await exists(publicPath)) return { privateKeyPath, publicKey: (await readFile(publicPath, 'utf8')).trim() };
  const publicKey = publicLineOf(await readPrivateKey(privateKeyPath), `xray-${basename(vm.dir)}`);
  await writeFileAtomic(publicPath, `${publicKey}\n`, 0o600);
  return { privateKeyPath, publicKey };
}

/**
 * generateEd25519 makes an ed25519 key pair that ssh2 can read back. ssh2's
 * generator strips leading zero bytes from the public key, so about one pair
 * in 256 is unreadable (https://github.com/mscdex/ssh2/issues/1390): such a
 * pair is thrown away and another one made.
 */
export function generateEd25519(): { private: string; public: string } {
  for (let attempt = 0; attempt < 16; attempt++) {
    const { utils } = ssh2();
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new XrayError('internal', 'Could not generate a usable SSH key; try again.');
}

/**
 * createExclusive writes `contents` to a temporary file and hard-links it into
 * place, so when two callers race for a new key exactly one key wins and both
 * go on with it.
 */
async function createExclusive(path: string, contents: string): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFileAtomic(temp, contents, 0o600);
  try {
    await link(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * resolveKey picks the key for a VM: the user's `ssh_key` from config.toml
 * when set (its .pub must sit beside it, since cloud-init needs the public
 * half), else the VM's generated key.
 */
export async function resolveKey(vm: VmPaths, userKey: string | null): Promise<SshKey> {
  if (userKey === null || userKey === '') return ensureVmKey(vm);
  if (!(await exists(userKey))) {
    throw new XrayError('not-found', `The SSH key ${userKey} set as ssh_key in config.toml does not exist; fix the path or clear it with "xray config set ssh_key ''".`);
  }
  const publicPath = `${userKey}.pub`;
  if (!(await exists(publicPath))) {
    throw new XrayError(
      'not-found',
      `The SSH key ${userKey} set as ssh_key has no public half at ${publicPath}; create it with "ssh-keygen -y -f ${userKey} > ${publicPath}".`,
    );
  }
  return { privateKeyPath: userKey, publicKey: (await readFile(publicPath, 'utf8')).trim() };
}

/**
 * readPrivateKey loads a private key and checks ssh2 can use it, so a key with
 * a passphrase fails with a sentence here rather than as an opaque auth error.
 */
export async function readPrivateKey(path: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new XrayError('not-found', `The SSH key ${path} cannot be read (${(err as Error).message}); check the path and its permissions.`, { cause: err });
  }
  const parsed = ssh2().utils.parseKey(data);
  if (parsed instanceof Error) {
    throw new XrayError('ssh', `The SSH key ${path} cannot be used (${parsed.message}); use an OpenSSH key without a passphrase.`, { cause: parsed });
  }
  return data;
}

function publicLineOf(privateKey: Buffer, comment: string): string {
  const parsed = ssh2().utils.parseKey(privateKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) throw new XrayError('ssh', 'The VM\'s SSH key cannot be parsed; delete it and start the VM again to make a new one.');
  return `${key.type} ${key.getPublicSSH().toString('base64')} ${comment}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

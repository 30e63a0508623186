// Runs in: plain Node (core).
import { link, readFile, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';

import { XrayError } from '../../shared/errors';
import { ssh2 } from './library';
import type { VmPaths } from '../paths';
import { writeFileAtomic } from '../store/toml-file';
import { nodeCrypto, tempTag } from '../builtins';

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
  const comment = `xray-${basename(vm.dir)}`;
  if (!(await exists(privateKeyPath))) {
    const pair = generateEd25519();
    if (await createExclusive(privateKeyPath, pair.private)) {
      const publicKey = `${pair.public} ${comment}`;
      await writeFileAtomic(publicPath, `${publicKey}\n`, 0o600);
      return { privateKeyPath, publicKey };
    }
  }
  if (await exists(publicPath)) return { privateKeyPath, publicKey: (await readFile(publicPath, 'utf8')).trim() };
  const publicKey = publicLineOf(await readPrivateKey(privateKeyPath), comment);
  await writeFileAtomic(publicPath, `${publicKey}\n`, 0o600);
  return { privateKeyPath, publicKey };
}

/** sshString is one length-prefixed field of the SSH wire format (RFC 4251, section 5). */
function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/** ED25519_PKCS8_PREFIX is the DER of a PKCS #8 ed25519 private key up to its 32-byte seed (RFC 8410, section 7). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * generateEd25519 makes an ed25519 key pair with node:crypto and writes it in
 * OpenSSH's own formats: the private key as an unencrypted openssh-key-v1
 * (PROTOCOL.key in OpenSSH's sources), the public key as "ssh-ed25519 BASE64".
 * Making a key so does not load ssh2, which would cost `xray create` more
 * than all else it does, nor meet ssh2's generator dropping leading zero
 * bytes, which made one pair in about 256 unreadable
 * (https://github.com/mscdex/ssh2/issues/1390).
 */
export function generateEd25519(): { private: string; public: string } {
  // An ed25519 private key is 32 random bytes (RFC 8032, section 5.1.5). The
  // public half comes from node:crypto as SPKI DER, whose last 32 bytes are
  // the key. Neither generateKeyPairSync nor a JWK export is used: on Node 20
  // a JWK export of a generated key can deadlock the process when a garbage
  // collection runs during it (both lock the key's mutex).
  const seed = nodeCrypto().randomBytes(32);
  const privateKey = nodeCrypto().createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const pub = nodeCrypto().createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32);
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const check = nodeCrypto().randomBytes(4);
  const secret = Buffer.concat([check, check, sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString('')]);
  // Unencrypted, the private section is padded with 1, 2, 3… to the cipher block size "none" has: 8.
  const padding = Buffer.from(Array.from({ length: (8 - (secret.length % 8)) % 8 }, (_, i) => i + 1));
  const keyCount = Buffer.alloc(4);
  keyCount.writeUInt32BE(1);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), sshString('none'), sshString('none'), sshString(''), keyCount, sshString(blob), sshString(Buffer.concat([secret, padding]))]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return {
    private: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    public: `ssh-ed25519 ${blob.toString('base64')}`,
  };
}

/**
 * createExclusive writes `contents` to a temporary file and hard-links it into
 * place, so when two callers race for a new key exactly one key wins and both
 * go on with it. It tells whether this caller's key won.
 */
async function createExclusive(path: string, contents: string): Promise<boolean> {
  const temp = `${path}.${tempTag()}.tmp`;
  await writeFileAtomic(temp, contents, 0o600);
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
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

import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkHostKey, forgetHostKey, hostPattern } from '../../../src-main/core/ssh/known-hosts';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-known-'));
  file = join(dir, 'known_hosts');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** blob builds an SSH public key blob: string type, then key bytes. */
function blob(type: string, fill: number): Buffer {
  const name = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(name.length);
  const keyLen = Buffer.alloc(4);
  keyLen.writeUInt32BE(32);
  return Buffer.concat([len, name, keyLen, Buffer.alloc(32, fill)]);
}

const opts = () => ({ file, vm: 'web', host: '127.0.0.1', port: 2222 });

describe('known_hosts pinning', () => {
  it.each([
    ['127.0.0.1', 22, '127.0.0.1'],
    ['127.0.0.1', 2222, '[127.0.0.1]:2222'],
  ])('names %s port %i as %s', (host, port, pattern) => {
    expect(hostPattern(host, port)).toBe(pattern);
  });

  it('pins on first contact, accepts the same key, refuses another, and forgets on request', async () => {
    const first = blob('ssh-ed25519', 1);
    expect(await checkHostKey(opts(), first)).toBe('pinned');
    expect(await readFile(file, 'utf8')).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${first.toString('base64')}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await checkHostKey(opts(), first)).toBe('known');
    expect(await checkHostKey({ ...opts(), port: 2223 }, blob('ssh-ed25519', 9))).toBe('pinned');

    await expect(checkHostKey(opts(), blob('ssh-ed25519', 2))).rejects.toMatchObject({ code: 'ssh' });
    await expect(checkHostKey(opts(), blob('ecdsa-sha2-nistp256', 2))).rejects.toThrow(/^The SSH host key of VM "web" changed since it was first seen \(now ecdsa-sha2-nistp256 SHA256:/);

    expect(await forgetHostKey(file, '127.0.0.1', 2222)).toBe(1);
    expect(await readFile(file, 'utf8')).not.toContain('[127.0.0.1]:2222 ');
    expect(await readFile(file, 'utf8')).toContain('[127.0.0.1]:2223 ');
    expect(await checkHostKey(opts(), blob('ssh-ed25519', 2))).toBe('pinned');
  });

  it('reads entries OpenSSH wrote, hashed or listing several names, and keeps comments', async () => {
    const key = blob('ssh-ed25519', 5);
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[127.0.0.1]:2222').digest('base64');
    await writeFile(file, `# mine\nother,[127.0.0.1]:2222 ssh-ed25519 ${blob('ssh-ed25519', 6).toString('base64')}\n|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${key.toString('base64')}\n`);
    expect(await checkHostKey(opts(), key)).toBe('known');
    expect(await checkHostKey(opts(), blob('ssh-ed25519', 6))).toBe('known');
    await expect(checkHostKey(opts(), blob('ssh-ed25519', 7))).rejects.toThrow(/changed since it was first seen/);
    expect(await forgetHostKey(file, '127.0.0.1', 2222)).toBe(2);
    expect(await readFile(file, 'utf8')).toBe('# mine\n');
  });
});

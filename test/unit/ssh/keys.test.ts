import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomePaths } from '../../../src-main/core/paths';
import { ensureVmKey, readPrivateKey, resolveKey } from '../../../src-main/core/ssh/keys';

let root: string;
let paths: HomePaths;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'xray-keys-'));
  paths = new HomePaths(root);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('VM keys', () => {
  it('generates one private ed25519 key per VM, even when asked for it concurrently, and keeps it', async () => {
    const vm = paths.vm('web');
    const keys = await Promise.all([1, 2, 3, 4].map(() => ensureVmKey(vm)));
    expect(new Set(keys.map((k) => k.publicKey)).size).toBe(1);
    const key = keys[0]!;
    expect(key.privateKeyPath).toBe(vm.sshKey);
    expect(key.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/=]+ xray-web$/);
    expect((await stat(vm.sshKey)).mode & 0o777).toBe(0o600);
    expect(await readFile(vm.sshKey, 'utf8')).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    const derived = spawnSync('ssh-keygen', ['-y', '-f', vm.sshKey], { encoding: 'utf8' });
    expect(derived.stdout.trim().split(' ').slice(0, 2)).toEqual(key.publicKey.split(' ').slice(0, 2));
    expect(await ensureVmKey(vm)).toEqual(key);
  });

  it('uses the key from config when set, and says how to fix a missing .pub or an encrypted key', async () => {
    const vm = paths.vm('web');
    const user = join(root, 'id_user');
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'me', '-f', user]).status).toBe(0);
    expect(await resolveKey(vm, user)).toEqual({ privateKeyPath: user, publicKey: (await readFile(`${user}.pub`, 'utf8')).trim() });
    expect((await resolveKey(vm, null)).privateKeyPath).toBe(vm.sshKey);

    await rm(`${user}.pub`);
    await expect(resolveKey(vm, user)).rejects.toThrow(`The SSH key ${user} set as ssh_key has no public half at ${user}.pub; create it with "ssh-keygen -y -f ${user} > ${user}.pub".`);
    await expect(resolveKey(vm, join(root, 'missing'))).rejects.toThrow(/set as ssh_key in config.toml does not exist/);

    const locked = join(root, 'id_locked');
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', locked]).status).toBe(0);
    await expect(readPrivateKey(locked)).rejects.toThrow(new RegExp(`^The SSH key ${locked} cannot be used \\(.*\\); use an OpenSSH key without a passphrase\\.$`));
    await writeFile(locked, 'garbage');
    await expect(readPrivateKey(locked)).rejects.toThrow(/cannot be used/);
  });
});

describe('generated key pairs', () => {
  it('always parse back in ssh2 (whose own generator made an unreadable ed25519 pair about once in 256)', async () => {
    const ssh2 = (await import('ssh2')).default;
    const { generateEd25519 } = await import('../../../src-main/core/ssh/keys');
    for (let i = 0; i < 1500; i++) {
      const pair = generateEd25519();
      expect(ssh2.utils.parseKey(pair.private)).not.toBeInstanceOf(Error);
      expect(ssh2.utils.parseKey(pair.public)).not.toBeInstanceOf(Error);
    }
  });

  it('are what OpenSSH reads: ssh-keygen derives the same public key from the private one', async () => {
    const { generateEd25519 } = await import('../../../src-main/core/ssh/keys');
    for (let i = 0; i < 5; i++) {
      const pair = generateEd25519();
      const file = join(root, `id_${i}`);
      await writeFile(file, pair.private, { mode: 0o600 });
      expect(spawnSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).stdout.trim()).toBe(pair.public);
    }
  });
});

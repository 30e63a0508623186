import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XrayError } from '../../../src-main/shared/errors';
import { hostnameForVm, writeNoCloudSeed, type NoCloudSeed } from '../../../src-main/core/guest/cloud-init';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wMWr6f6u1c2hQ6XHkXs xray@host';

const seed: NoCloudSeed = { instanceId: 'web-1a2b', hostname: 'web', user: 'xray', authorizedKeys: [KEY] };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-seed-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** cloudConfig parses a `#cloud-config` document the way YAML would read our JSON body. */
function cloudConfig(text: string): Record<string, unknown> {
  expect(text.startsWith('#cloud-config\n')).toBe(true);
  return JSON.parse(text.slice('#cloud-config\n'.length)) as Record<string, unknown>;
}

/** mimeParts splits a multipart/mixed document into its decoded part bodies. */
function mimeParts(text: string): string[] {
  const boundary = /boundary="([^"]+)"/.exec(text)?.[1];
  expect(boundary).toBeDefined();
  const chunks = text.split(`--${boundary}`).slice(1, -1);
  return chunks.map((chunk) => {
    const body = chunk.slice(chunk.indexOf('\n\n') + 2);
    return Buffer.from(body.replace(/\s/g, ''), 'base64').toString('utf8');
  });
}

describe('writeNoCloudSeed', () => {
  it('writes exactly meta-data and user-data, nothing else on the seed volume', async () => {
    await writeNoCloudSeed(join(dir, 'seed'), seed);
    expect((await readdir(join(dir, 'seed'))).sort()).toEqual(['meta-data', 'user-data']);
  });

  it('names the instance and host in meta-data', async () => {
    await writeNoCloudSeed(dir, seed);
    const meta = JSON.parse(await readFile(join(dir, 'meta-data'), 'utf8'));
    expect(meta).toEqual({ 'instance-id': 'web-1a2b', 'local-hostname': 'web' });
  });

  it('creates one key-only user with passwordless sudo, no password or root logins, and a resolvable host name', async () => {
    await writeNoCloudSeed(dir, { ...seed, authorizedKeys: [`  ${KEY}\n`, 'ssh-rsa AAAAB3NzaC1yc2E= other'] });
    const config = cloudConfig(await readFile(join(dir, 'user-data'), 'utf8'));
    expect(config).toEqual({
      users: [
        {
          name: 'xray',
          shell: '/bin/bash',
          sudo: 'ALL=(ALL) NOPASSWD:ALL',
          lock_passwd: true,
          ssh_authorized_keys: [KEY, 'ssh-rsa AAAAB3NzaC1yc2E= other'],
        },
      ],
      disable_root: true,
      ssh_pwauth: false,
      manage_etc_hosts: true,
    });
  });

  it('keeps key comments with quotes and non-ASCII text intact', async () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 "José: #1"';
    await writeNoCloudSeed(dir, { ...seed, authorizedKeys: [key] });
    const config = cloudConfig(await readFile(join(dir, 'user-data'), 'utf8'));
    expect((config.users as Array<{ ssh_authorized_keys: string[] }>)[0]?.ssh_authorized_keys).toEqual([key]);
  });

  it('adds extra user-data as a second MIME part after ours, byte for byte', async () => {
    const extra = '#!/bin/sh\necho "héllo" > /tmp/extra\n';
    await writeNoCloudSeed(dir, { ...seed, extraUserData: extra });
    const text = await readFile(join(dir, 'user-data'), 'utf8');
    expect(text.startsWith('Content-Type: multipart/mixed;')).toBe(true);
    const parts = mimeParts(text);
    expect(parts).toHaveLength(2);
    expect(cloudConfig(parts[0] ?? '').ssh_pwauth).toBe(false);
    expect(parts[1]).toBe(extra);
  });

  it.each<[string, Partial<NoCloudSeed>]>([
    ['an instance id with a slash', { instanceId: 'a/b' }],
    ['an empty instance id', { instanceId: '' }],
    ['a host name with an underscore', { hostname: 'my_vm' }],
    ['a host name with upper case', { hostname: 'Web' }],
    ['a host name ending in a dash', { hostname: 'web-' }],
    ['a 64-character host name', { hostname: 'a'.repeat(64) }],
    ['the root user', { user: 'root' }],
    ['a user name with a space', { user: 'x ray' }],
    ['no keys', { authorizedKeys: [] }],
    ['a private key', { authorizedKeys: ['-----BEGIN OPENSSH PRIVATE KEY-----'] }],
    ['a key smuggling a second line', { authorizedKeys: [`${KEY}\nssh-rsa AAAA evil`] }],
  ])('rejects %s and writes nothing', async (_case, change) => {
    const error = await writeNoCloudSeed(join(dir, 'seed'), { ...seed, ...change }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(XrayError);
    expect((error as XrayError).code).toBe('invalid-argument');
    await expect(readdir(join(dir, 'seed'))).rejects.toThrow();
  });
});

describe('hostnameForVm', () => {
  it.each([
    ['web', 'web'],
    ['My.VM_2', 'my-vm-2'],
    ['1st', '1st'],
    ['a.', 'a'],
    ['x'.repeat(70), 'x'.repeat(63)],
    ['___', 'xray-vm'],
  ])('turns %j into %j', (name, hostname) => {
    expect(hostnameForVm(name)).toBe(hostname);
  });
});

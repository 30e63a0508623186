// SecretStore with the file backend, for real: where values go, what the index holds, and what is refused.
import { chmod, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomePaths } from '../../../src-main/core/paths';
import { SecretStore, secretFromInput } from '../../../src-main/core/secrets/store';

let dir: string;
let paths: HomePaths;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-secrets-'));
  paths = new HomePaths(join(dir, 'home'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** store has no session bus and no helpers on PATH, as a headless Linux host: the probe picks the file. */
const store = (env: NodeJS.ProcessEnv = {}) => new SecretStore(paths, { platform: 'linux', env: { PATH: join(dir, 'no-helpers'), ...env } });
const VALUE = 'ghp_0123456789abcdefghijklmnopqrstuvwxyz';

describe('SecretStore with the file backend', () => {
  it('says where values are kept and why', async () => {
    expect(await store().backend()).toEqual({ kind: 'file', reason: 'a private file under XRAY_HOME (no D-Bus session for the Secret Service)' });
  });

  it('keeps a value in a 0600 file in a 0700 directory and gives it back', async () => {
    await store().set('github', VALUE);
    expect((await stat(paths.secretsDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(paths.secretsDir, 'github'))).mode & 0o777).toBe(0o600);
    expect(await store().reveal('github')).toBe(VALUE);
  });

  it('lists names and dates with the backend, and the index never holds a value', async () => {
    await store().set('npm', 'npm_token_value');
    const before = await store().set('github', VALUE);
    const after = await store().set('github', `${VALUE}2`);
    expect(after.createdAt).toBe(before.createdAt);
    const listed = await store().list();
    expect(listed.backend.kind).toBe('file');
    expect(listed.secrets.map((s) => s.name)).toEqual(['github', 'npm']);
    expect(JSON.stringify(listed)).not.toContain(VALUE);
    const index = await readFile(paths.secretsIndex, 'utf8');
    expect(index).toContain('backend = "file"');
    expect(index).not.toContain(VALUE);
    expect(index).not.toContain('npm_token_value');
    expect((await stat(paths.secretsIndex)).mode & 0o777).toBe(0o600);
  });

  it('removes a value and its entry; removing it again says there was none', async () => {
    await store().set('github', VALUE);
    expect(await store().remove('github')).toBe(true);
    expect(await readdir(paths.secretsDir)).toEqual([]);
    expect((await store().list()).secrets).toEqual([]);
    expect(await store().remove('github')).toBe(false);
  });

  it('keeps using the backend its secrets are in, even once a keyring appears', async () => {
    await store().set('github', VALUE);
    const later = store({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus' });
    expect(await later.backend()).toEqual({ kind: 'file', reason: "a private file under XRAY_HOME (where this home's secrets are kept)" });
    expect(await later.reveal('github')).toBe(VALUE);
  });

  it('follows XRAY_SECRET_BACKEND, and refuses a value it does not know', async () => {
    expect((await store({ XRAY_SECRET_BACKEND: 'file' }).backend()).reason).toBe('a private file under XRAY_HOME (XRAY_SECRET_BACKEND)');
    await expect(store({ XRAY_SECRET_BACKEND: 'vault' }).backend()).rejects.toThrow('XRAY_SECRET_BACKEND is "vault"; set it to keychain, secret-service or file, or unset it.');
  });

  it('refuses a value file that other users can read', async () => {
    await store().set('github', VALUE);
    const file = join(paths.secretsDir, 'github');
    await chmod(file, 0o644);
    await expect(store().reveal('github')).rejects.toThrow(`${file} can be read by other users; run "chmod 600 ${file}", and set secret "github" again if others may have read it.`);
  });

  it.each([
    ['', 'Secret "github" was not stored: the secret is empty.'],
    ['line\nbreak', 'Secret "github" was not stored: the secret holds a line break or another control character, which no HTTP header may carry.'],
    ['x'.repeat(16 * 1024 + 1), 'Secret "github" was not stored: the secret is longer than 16384 bytes.'],
  ])('refuses the value %#, saying why, and stores nothing', async (value, message) => {
    await expect(store().set('github', value)).rejects.toThrow(message);
    await expect(stat(paths.secretsIndex)).rejects.toThrow(/ENOENT/);
  });

  it.each(['../escape', '.hidden', 'has space', ''])('refuses the name %j as other names are refused', async (name) => {
    await expect(store().set(name, VALUE)).rejects.toThrow(/^The secret name ".*" .*; use up to 63 letters, digits/);
  });

  it('says how to set a secret that is not there', async () => {
    await expect(store().reveal('github')).rejects.toThrow('Secret "github" is not set; run "xray secret set github".');
  });
});

describe('secretFromInput', () => {
  it.each([
    ['token\n', 'token'],
    ['token\r\n', 'token'],
    ['token', 'token'],
    ['token\n\n', 'token\n'],
  ])('%j → %j', (input, value) => {
    expect(secretFromInput(input)).toBe(value);
  });
});

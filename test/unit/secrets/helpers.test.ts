// The Keychain and Secret Service backends, run against FAKE `security` and
// `secret-tool` scripts (test/fixtures/fake-secret-helpers) placed first on
// PATH: what each is asked, and that a value is never on a command line.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomePaths } from '../../../src-main/core/paths';
import { probeSecretBackend } from '../../../src-main/core/secrets/probe';
import { runCommand } from '../../../src-main/core/secrets/command';
import { SecretStore } from '../../../src-main/core/secrets/store';

const FAKE_BIN = resolve(__dirname, '../../fixtures/fake-secret-helpers');
const VALUE = 'ghp_Xy9 "quoted" \'single\' $HOME `tick` \\back';

interface Call {
  readonly tool: string;
  readonly argv: string[];
  readonly stdin: string;
  readonly bus?: string | null;
}

let dir: string;
let paths: HomePaths;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-secret-helpers-'));
  paths = new HomePaths(join(dir, 'home'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** env puts the fakes first on PATH (node stays reachable for their shebang) and tells them where to write. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: `${FAKE_BIN}:${process.env.PATH ?? ''}`, FAKE_LOG: join(dir, 'calls.jsonl'), FAKE_STORE: join(dir, 'store.json'), ...extra };
}

function calls(): Call[] {
  const log = join(dir, 'calls.jsonl');
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Call);
}

function expectNoValueInArguments(value: string): void {
  const hex = Buffer.from(value).toString('hex');
  for (const call of calls()) for (const arg of call.argv) expect(arg.includes(value) || arg.includes(hex)).toBe(false);
}

describe('Keychain backend (fake security)', () => {
  const store = (extra: NodeJS.ProcessEnv = {}) => new SecretStore(paths, { platform: 'darwin', env: env(extra) });

  it('is chosen on a Mac when security answers, and says so', async () => {
    expect(await store().backend()).toEqual({ kind: 'keychain', reason: 'the macOS Keychain (security)' });
    expect(calls().map((c) => c.argv)).toEqual([['default-keychain']]);
  });

  it('adds a value through security -i, in hex on stdin, and reads it back', async () => {
    const secrets = store();
    await secrets.set('github', VALUE);
    const add = calls().find((c) => c.argv[0] === '-i');
    expect(add?.stdin).toMatch(new RegExp(`^add-generic-password -U -s xray:[0-9a-f]{12} -a github -l xray-github -X ${Buffer.from(VALUE).toString('hex')}\\n$`));
    expect(add?.stdin).not.toContain(VALUE);
    expect(await secrets.reveal('github')).toBe(VALUE);
    expectNoValueInArguments(VALUE);
  });

  it('removes a value, after which it is not found', async () => {
    const secrets = store();
    await secrets.set('github', VALUE);
    expect(await secrets.remove('github')).toBe(true);
    expect(calls().some((c) => c.argv[0] === 'delete-generic-password' && c.argv.includes('github'))).toBe(true);
    await expect(secrets.reveal('github')).rejects.toThrow('Secret "github" is not set; run "xray secret set github".');
  });

  it('keeps the secrets of two homes apart', async () => {
    await store().set('github', 'one');
    await new SecretStore(new HomePaths(join(dir, 'other')), { platform: 'darwin', env: env() }).set('github', 'two');
    expect(await store().reveal('github')).toBe('one');
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'store.json'), 'utf8')) as object)).toHaveLength(2);
  });

  it('fails with a sentence that does not repeat the value when the Keychain refuses', async () => {
    const error = await store({ FAKE_FAIL: '1' })
      .set('github', VALUE)
      .catch((err: Error) => err);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^The Keychain \(security\) could not store secret "github" \(security: add-generic-password .* -X \[secret\]: User interaction is not allowed\.\); check that the keyring is unlocked and try again\.$/);
    expect(message).not.toContain(Buffer.from(VALUE).toString('hex'));
    expect(message).not.toContain(VALUE);
  });

  it('refuses a value too long for the line security -i reads', async () => {
    await expect(store().set('github', 'x'.repeat(2100))).rejects.toThrow(/^Secret "github" is too long for the Keychain \(at most \d+ bytes\); shorten it or set XRAY_SECRET_BACKEND=file\.$/);
    expect(calls().some((c) => c.argv[0] === '-i')).toBe(false);
  });
});

describe('Secret Service backend (fake secret-tool)', () => {
  const bus = 'unix:path=/run/user/1000/bus';
  const store = () => new SecretStore(paths, { platform: 'linux', env: env({ DBUS_SESSION_BUS_ADDRESS: bus }) });

  it('is chosen on Linux when a session bus exists and secret-tool answers', async () => {
    expect(await store().backend()).toEqual({ kind: 'secret-service', reason: 'the Secret Service (secret-tool)' });
  });

  it('stores the value on stdin only, with attributes naming the home and the secret', async () => {
    const secrets = store();
    await secrets.set('github', VALUE);
    const add = calls().find((c) => c.argv[0] === 'store');
    expect(add?.argv).toEqual(['store', '--label=Xray secret github', 'xray-home', paths.root, 'xray-secret', 'github']);
    expect(add?.stdin).toBe(VALUE);
    expect(add?.bus).toBe(bus);
    expect(await secrets.reveal('github')).toBe(VALUE);
    expectNoValueInArguments(VALUE);
  });

  it('clears a value, after which it is not found', async () => {
    const secrets = store();
    await secrets.set('github', VALUE);
    expect(await secrets.remove('github')).toBe(true);
    expect(calls().some((c) => c.argv[0] === 'clear' && c.argv.includes('github'))).toBe(true);
    await expect(secrets.reveal('github')).rejects.toThrow('Secret "github" is not set; run "xray secret set github".');
  });
});

describe('probeSecretBackend', () => {
  it('runs nothing and picks the file when there is no D-Bus session, so it cannot hang', async () => {
    const probed = await probeSecretBackend({ platform: 'linux', env: env({ XDG_RUNTIME_DIR: join(dir, 'no-runtime') }), run: runCommand });
    expect(probed.kind).toBe('file');
    expect(probed.reason).toBe('a private file under XRAY_HOME (no D-Bus session for the Secret Service)');
    expect(calls()).toEqual([]);
  });

  it('gives up on a Secret Service that does not answer within its time, and kills the helper', async () => {
    const started = Date.now();
    const probed = await probeSecretBackend({ platform: 'linux', env: env({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nowhere', FAKE_HANG: '1' }), run: runCommand, timeoutMs: 1000 });
    expect(probed).toMatchObject({ kind: 'file', reason: 'a private file under XRAY_HOME (the Secret Service did not answer: secret-tool gave no answer within 1 s)' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('says when secret-tool is not installed', async () => {
    const probed = await probeSecretBackend({ platform: 'linux', env: { PATH: join(dir, 'empty'), DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nowhere' }, run: runCommand });
    expect(probed.reason).toBe('a private file under XRAY_HOME (the Secret Service did not answer: secret-tool is not installed)');
  });
});

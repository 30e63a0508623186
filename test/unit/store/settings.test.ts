import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomePaths } from '../../../src-main/core/paths';
import { SETTINGS_DEFAULTS, SettingsStore } from '../../../src-main/core/store/settings';
import { SETTABLE_KEYS } from '../../../src-main/shared/settings';
import { parseToml } from '../../../src-main/core/store/toml-file';
import { refusal } from '../../helpers/refusal';

let root: string;
let paths: HomePaths;
let store: SettingsStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'xray-settings-'));
  paths = new HomePaths(root);
  store = new SettingsStore(paths);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('reading config.toml', () => {
  it('gives the defaults when the file is missing', async () => {
    expect(await store.read()).toEqual({
      autostart: false,
      promptTimeoutSeconds: 300,
      defaultAction: 'ask',
      denyWhenNoClient: false,
      stopTimeoutSeconds: 10,
      bootTimeoutSeconds: null,
      sshKey: null,
      firmware: {},
      dnsServers: [],
      imageMirror: null,
      upstreamCaFile: null,
      autoSnapshots: false,
      autoSnapshotsKeep: 5,
    });
  });

  it.each([
    ['autostart = true', true],
    ['autostart = false', false],
    ['autostart = ["web", "db"]', ['web', 'db']],
  ])('loads %s', async (line, expected) => {
    await writeFile(paths.configFile, `${line}\n`);
    expect((await store.read()).autostart).toEqual(expected);
  });

  it('loads every key, firmware table included', async () => {
    await writeFile(
      paths.configFile,
      `prompt_timeout = 60\ndefault_action = "deny"\ndeny_when_no_client = true\nstop_timeout = 15\nssh_key = "/k/id"\n[firmware]\nx86_64_code = "/fw/code.fd"\n`,
    );
    expect(await store.read()).toEqual({
      ...SETTINGS_DEFAULTS,
      promptTimeoutSeconds: 60,
      defaultAction: 'deny',
      denyWhenNoClient: true,
      stopTimeoutSeconds: 15,
      sshKey: '/k/id',
      firmware: { x86_64_code: '/fw/code.fd' },
    });
  });

  it('reports a file that is not TOML with its path and line', async () => {
    await writeFile(paths.configFile, 'prompt_timeout = 60\nautostart = [\n');
    const err = await refusal(store.read());
    expect(err.code).toBe('corrupt');
    expect(err.message).toMatch(new RegExp(`^${paths.configFile} line \\d`));
  });

  it.each([
    ['prompt_timeout = "soon"', 'prompt_timeout'],
    ['default_action = "allow"', 'default_action'],
    ['autostart = ["ok", "../bad"]', 'autostart'],
    ['firmware = "x"', 'firmware'],
    ['[firmware]\naarch64_code = 3', 'firmware.aarch64_code'],
    ['dns_servers = ["8.8.8.8", "resolver"]', 'dns_servers'],
    ['auto_snapshots = "yes"', 'auto_snapshots'],
    ['auto_snapshots_keep = 0', 'auto_snapshots_keep'],
  ])('reports %s naming the key', async (text, key) => {
    await writeFile(paths.configFile, `${text}\n`);
    const err = await refusal(store.read());
    expect(err.code).toBe('corrupt');
    expect(err.message).toContain(paths.configFile);
    expect(err.message).toContain(`key "${key}"`);
  });
});

describe('changing config.toml', () => {
  const ORIGINAL = `# my settings\nprompt_timeout = 120\ncolour = "blue"\n\n[firmware]\nx86_64_code = "/fw/code.fd"\nriscv64_code = "/fw/riscv.fd"\n\n[future]\nthing = 1\n`;

  it.each([
    ['autostart', 'true', { autostart: true }],
    ['autostart', 'false', { autostart: false }],
    ['autostart', 'web, db', { autostart: ['web', 'db'] }],
    ['autostart', '', { autostart: [] }],
    ['prompt_timeout', '45', { promptTimeoutSeconds: 45 }],
    ['default_action', 'deny', { defaultAction: 'deny' }],
    ['deny_when_no_client', 'TRUE', { denyWhenNoClient: true }],
    ['stop_timeout', '5', { stopTimeoutSeconds: 5 }],
    ['boot_timeout', '600', { bootTimeoutSeconds: 600 }],
    ['boot_timeout', '', { bootTimeoutSeconds: null }],
    ['ssh_key', '/home/me/.ssh/id_ed25519', { sshKey: '/home/me/.ssh/id_ed25519' }],
    ['ssh_key', '~/.ssh/id_rsa', { sshKey: join(homedir(), '.ssh/id_rsa') }],
    ['firmware.aarch64_vars', '/fw/vars.fd', { firmware: { x86_64_code: '/fw/code.fd', riscv64_code: '/fw/riscv.fd', aarch64_vars: '/fw/vars.fd' } }],
    ['firmware.x86_64_code', '', { firmware: { riscv64_code: '/fw/riscv.fd' } }],
    ['dns_servers', '198.18.0.53, [2001:DB8::53]:5353, 10.0.0.1:53', { dnsServers: ['198.18.0.53', '[2001:db8::53]:5353', '10.0.0.1:53'] }],
    ['dns_servers', '', { dnsServers: [] }],
    ['auto_snapshots', 'true', { autoSnapshots: true }],
    ['auto_snapshots_keep', '3', { autoSnapshotsKeep: 3 }],
  ])('set %s %j', async (key, value, expected) => {
    await writeFile(paths.configFile, ORIGINAL);
    const result = await store.set(key, value);
    expect(result).toMatchObject(expected);
    expect(await store.read()).toEqual(result);
    const raw = parseToml(await readFile(paths.configFile, 'utf8'), paths.configFile);
    expect(raw).toMatchObject({ colour: 'blue', future: { thing: 1 } });
    expect((await stat(paths.configFile)).mode & 0o777).toBe(0o600);
  });

  it('creates a private config.toml when there is none', async () => {
    await store.set('stop_timeout', '12');
    expect((await stat(paths.configFile)).mode & 0o777).toBe(0o600);
    expect(await readFile(paths.configFile, 'utf8')).toBe('stop_timeout = 12\n');
  });

  it('refuses an unknown key, listing the known ones, and leaves the file byte-identical', async () => {
    await writeFile(paths.configFile, ORIGINAL);
    const err = await refusal(store.set('promt_timeout', '5'));
    expect(err.code).toBe('invalid-argument');
    for (const key of ['autostart', 'prompt_timeout', 'default_action', 'deny_when_no_client', 'stop_timeout', 'ssh_key', 'firmware.x86_64_code']) {
      expect(err.message).toContain(key);
    }
    expect(await readFile(paths.configFile, 'utf8')).toBe(ORIGINAL);
  });

  it.each([
    ['prompt_timeout', 'abc'],
    ['prompt_timeout', '0'],
    ['prompt_timeout', '1.5'],
    ['stop_timeout', '-3'],
    ['boot_timeout', 'soon'],
    ['default_action', 'allow'],
    ['deny_when_no_client', 'yes please'],
    ['autostart', 'web,../etc'],
    ['ssh_key', 'relative/key'],
    ['firmware.x86_64_code', 'fw.fd'],
    ['dns_servers', 'dns.example.com'],
    ['dns_servers', '1.2.3.4:99999'],
    ['auto_snapshots', 'on'],
    ['auto_snapshots_keep', '0'],
    ['auto_snapshots_keep', '101'],
  ])('refuses %s = %j in one sentence and leaves the file byte-identical', async (key, value) => {
    await writeFile(paths.configFile, ORIGINAL);
    const err = await refusal(store.set(key, value));
    expect(err.code).toBe('invalid-argument');
    expect(err.message).toContain(key);
    expect(err.message.trim().split(/[.;:] [A-Z]/)).toHaveLength(1);
    expect(await readFile(paths.configFile, 'utf8')).toBe(ORIGINAL);
  });

  it('never overwrites a config.toml that does not parse', async () => {
    const broken = 'prompt_timeout = = 1\n';
    await writeFile(paths.configFile, broken);
    expect((await refusal(store.set('stop_timeout', '9'))).code).toBe('corrupt');
    expect(await readFile(paths.configFile, 'utf8')).toBe(broken);
  });

  it('takes exactly the keys the shared layer names, so "xray config show" prints what "config set" takes', () => {
    expect(store.keys().map((k) => k.key)).toEqual(SETTABLE_KEYS);
  });

  it('lists every key with a description and type', () => {
    const keys = store.keys();
    expect(keys.map((k) => k.key)).toEqual([
      'autostart',
      'prompt_timeout',
      'default_action',
      'deny_when_no_client',
      'stop_timeout',
      'boot_timeout',
      'ssh_key',
      'dns_servers',
      'image_mirror',
      'upstream_ca_file',
      'auto_snapshots',
      'auto_snapshots_keep',
      'firmware.aarch64_code',
      'firmware.aarch64_vars',
      'firmware.x86_64_code',
      'firmware.x86_64_vars',
    ]);
    for (const k of keys) {
      expect(k.description.length).toBeGreaterThan(10);
      expect(k.type.length).toBeGreaterThan(0);
    }
  });
});

// `xray config show` over a real SettingsStore: what it prints, config set takes back.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomePaths } from '../../../src-main/core/paths';
import { SettingsStore } from '../../../src-main/core/store/settings';
import { SETTABLE_KEYS } from '../../../src-main/shared/settings';
import { FakeApi, fakeCli } from '../../helpers/cli-context';

let root: string;
let store: SettingsStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'xray-cli-config-'));
  store = new SettingsStore(new HomePaths(root));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function settingsCli() {
  return fakeCli(new FakeApi({ 'config.get': () => store.read(), 'config.set': ({ key, value }) => store.set(key, value) }));
}

describe('xray config show', () => {
  it('prints each setting under the key config set takes, with a value config set takes back', async () => {
    await store.set('autostart', 'web,db');
    await store.set('dns_servers', '192.0.2.53, 192.0.2.54:5353');
    await store.set('firmware.x86_64_code', '/opt/ovmf/code.fd');
    const before = await store.read();
    const cli = settingsCli();
    expect(await cli.run('config', 'show')).toBe(0);
    const [header, ...lines] = cli.stdout().trimEnd().split('\n');
    expect(header).toMatch(/^KEY +VALUE$/);
    const rows = lines.map((line) => /^(\S+) *(.*)$/.exec(line)!.slice(1) as [string, string]);
    expect(rows).toContainEqual(['prompt_timeout', '300']);
    expect(rows).toContainEqual(['autostart', 'web,db']);
    expect(rows).toContainEqual(['ssh_key', '']);
    expect(rows).toContainEqual(['auto_snapshots_keep', '5']);
    expect(rows.map(([key]) => key)).toEqual(SETTABLE_KEYS);
    for (const [key, value] of rows) expect(await settingsCli().run('config', 'set', key, value), `config set ${key} "${value}"`).toBe(0);
    expect(await store.read()).toEqual(before);
  });

  it('keeps the API\'s shape with --json', async () => {
    const cli = settingsCli();
    expect(await cli.run('config', 'show', '--json')).toBe(0);
    expect(JSON.parse(cli.stdout())).toEqual(await store.read());
  });

  it('completes the keys config set takes', async () => {
    const cli = settingsCli();
    expect(await cli.run('__complete', '--', 'config', 'set', 'prompt')).toBe(0);
    expect(cli.stdout()).toBe('prompt_timeout\n');
  });
});

// `xray firewall` rules on a stopped VM, through the daemon the CLI starts.
import TOML from '@iarna/toml';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../src-main/core/vms/runtime';
import { xray } from '../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';

let home: TestHome;

beforeEach(async () => {
  home = await makeTestHome('xray-cli-fw-');
  await addFirmwareOnlyVm(home.paths, 'box');
});

afterEach(async () => {
  const pid = Number((await readFile(home.paths.lockFile, 'utf8').catch(() => '0')).trim());
  if (pid && isProcessAlive(pid)) process.kill(pid, 'SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  await home.cleanup();
});

describe('xray firewall', () => {
  it('adds, lists and removes rules that persist in vm.toml, and refuses what cannot apply', async () => {
    const add = await xray(home.root, ['firewall', 'add', 'box', 'allow', '*.pypi.org:443', '--json']);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ action: 'allow', target: { kind: 'domain-suffix', domain: 'pypi.org', port: 443 } });
    expect((await xray(home.root, ['firewall', 'add', 'box', 'deny', '10.0.0.0/8', '--for', '2h'])).code).toBe(0);
    const toml = await readFile(home.paths.vm('box').config, 'utf8');
    expect(toml).toContain('"*.pypi.org:443" = "allow"');
    const firewall = (TOML.parse(toml) as { firewall: Record<string, unknown> }).firewall;
    expect(firewall['10.0.0.0/8']).toEqual({ action: 'deny', expires: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    const rules = JSON.parse((await xray(home.root, ['firewall', 'list', 'box', '--json'])).stdout);
    const own = rules.filter((r: { source: string }) => r.source !== 'default');
    expect(own.map((r: { id: string }) => r.id).sort()).toEqual(['*.pypi.org:443', '10.0.0.0/8']);
    expect(rules.some((r: { source: string }) => r.source === 'default')).toBe(true);

    for (const [args, pattern] of [
      [['firewall', 'add', 'box', 'allow', 'exa mple.com'], /target|not/i],
      [['firewall', 'add', 'box', 'allow', 'example.com', '--until-stop'], /not running/],
      [['firewall', 'add', 'box', 'allow', '127.0.0.1:8080'], /only as host\.xray\.internal; add a rule for host\.xray\.internal:8080/],
      [['firewall', 'add', 'box', 'maybe', 'example.com'], /neither allow nor deny/],
      [['firewall', 'add', 'box', 'allow', 'example.com', '--for', 'soon'], /duration/],
      [['firewall', 'clear', 'box'], /--force/],
      [['firewall', 'remove', 'box', 'nothing.example'], /no rule/],
    ] as const) {
      const r = await xray(home.root, [...args]);
      expect(r.code, `${args.join(' ')}: ${r.stdout}`).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
    expect(await readFile(home.paths.vm('box').config, 'utf8')).toBe(toml);

    expect((await xray(home.root, ['firewall', 'remove', 'box', '*.pypi.org:443'])).code).toBe(0);
    expect(await readFile(home.paths.vm('box').config, 'utf8')).not.toContain('pypi');
    expect((await xray(home.root, ['firewall', 'clear', 'box', '--force'])).code).toBe(0);
    expect(await readFile(home.paths.vm('box').config, 'utf8')).not.toContain('10.0.0.0');
    const status = JSON.parse((await xray(home.root, ['firewall', 'status', 'box', '--json'])).stdout);
    expect(status).toMatchObject({ vm: 'box', state: 'stopped', firewallActive: false, pendingPrompts: 0 });
  });
});

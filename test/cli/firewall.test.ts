// `xray firewall` rules on a stopped VM: read and written in the files, with no daemon started.
import TOML from '@iarna/toml';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../src-main/core/vms/runtime';
import { XRAY_BIN, xray } from '../helpers/cli';
import { waitFor } from '../helpers/wait';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';

let home: TestHome;

beforeEach(async () => {
  home = await makeTestHome('xray-cli-fw-');
  await addFirmwareOnlyVm(home.paths, 'box');
});

afterEach(async () => {
  const pid = Number((await readFile(home.paths.lockFile, 'utf8').catch(() => '0')).trim());
  if (pid && isProcessAlive(pid)) process.kill(pid, 'SIGTERM');
  await waitFor('the daemon to exit', () => !pid || !isProcessAlive(pid));
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
    expect((await xray(home.root, ['firewall', 'prompts'])).stdout).toContain('No prompts are waiting.');
    expect((await xray(home.root, ['firewall', 'log', 'box'])).stdout).toContain('VM "box" has made no connections');
    expect(existsSync(home.paths.lockFile)).toBe(false);
    expect(existsSync(home.paths.controlSocket)).toBe(false);
  });

  it('adds an HTTP rule from --method and --path, lists it by host and requests, and removes it by the id it shows', async () => {
    const add = await xray(home.root, ['firewall', 'add', 'box', 'allow', 'api.github.com', '--method', 'post,GET', '--path', '/repos/acme/*']);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toBe('Allowed api.github.com (GET,POST /repos/acme/*) for VM "box" (forever).\n');
    expect((await xray(home.root, ['firewall', 'add', 'box', 'deny', '*.github.com', '--method', 'DELETE', '--method', 'put'])).code).toBe(0);
    expect((await xray(home.root, ['firewall', 'add', 'box', 'allow', 'uploads.example.com:443', '--path', '/v1/*'])).code).toBe(0);
    const toml = await readFile(home.paths.vm('box').config, 'utf8');
    expect(toml).toContain('"api.github.com GET,POST /repos/acme/*" = "allow"');
    expect(toml).toContain('"*.github.com DELETE,PUT" = "deny"');
    expect(toml).toContain('"uploads.example.com:443 /v1/*" = "allow"');

    const list = await xray(home.root, ['firewall', 'list', 'box']);
    const lines = list.stdout.split('\n');
    expect(lines[0]).toMatch(/^ID\s+ACTION\s+HOST\s+REQUESTS\s+LIFETIME\s+SOURCE$/);
    expect(lines).toContainEqual(expect.stringMatching(/^"api\.github\.com GET,POST \/repos\/acme\/\*"\s+allow\s+api\.github\.com\s+GET,POST \/repos\/acme\/\*\s+forever\s+vm$/));
    expect(lines).toContainEqual(expect.stringMatching(/^"\*\.github\.com DELETE,PUT"\s+deny\s+\*\.github\.com\s+DELETE,PUT any path\s+forever/));
    expect(lines).toContainEqual(expect.stringMatching(/^"uploads\.example\.com:443 \/v1\/\*"\s+allow\s+uploads\.example\.com:443\s+any method \/v1\/\*/));
    expect(lines).toContainEqual(expect.stringMatching(/^default:\S+\s+allow\s+\S+\s+all\s+forever\s+default$/));

    for (const [args, message] of [
      [['10.0.0.0/8', '--method', 'GET'], '--method and --path need a host name such as api.github.com, and "10.0.0.0/8" is an address, whose connections Xray does not open to read their requests.'],
      [['1.2.3.4:443', '--path', '/x'], '"1.2.3.4:443" is an address'],
      [['[2001:db8::1]:443', '--path', '/x'], '"[2001:db8::1]:443" is an address'],
      [['api.github.com', '--method', 'GTE'], '"GTE" is not an HTTP method; use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS.'],
      [['api.github.com', '--method', 'GET,'], '--method takes method names separated by commas, like GET,POST.'],
      [['api.github.com', '--path', 'repos/*'], '--path "repos/*" must begin with "/", like "/repos/acme/*".'],
      [['api.github.com', '--path', '/search?q=1'], 'has a query or fragment'],
      [['api.github.com', '--path', '/a b'], 'percent-encode them (a space is %20)'],
      [['api.github.com GET', '--method', 'POST'], '"api.github.com GET" already has methods or a path; give them either in the target or with --method and --path.'],
    ] as const) {
      const r = await xray(home.root, ['firewall', 'add', 'box', 'allow', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(message);
    }
    expect(await readFile(home.paths.vm('box').config, 'utf8')).toBe(toml);

    expect((await xray(home.root, ['firewall', 'remove', 'box', 'api.github.com GET,POST /repos/acme/*'])).code).toBe(0);
    expect(await readFile(home.paths.vm('box').config, 'utf8')).not.toContain('/repos/acme/');
  });

  it('keeps all of 20 rules added at once by 20 processes', async () => {
    const added = await Promise.all(Array.from({ length: 20 }, (_, i) => xray(home.root, ['firewall', 'add', 'box', i % 2 ? 'deny' : 'allow', `host${i}.example.com`])));
    for (const r of added) expect(r.code, r.stderr).toBe(0);
    const rules = JSON.parse((await xray(home.root, ['firewall', 'list', 'box', '--json'])).stdout) as { id: string; source: string }[];
    expect(rules.filter((r) => r.source === 'vm').map((r) => r.id).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `host${i}.example.com`).sort());
  }, 120_000);

  it('stops a VM that is not running without starting a supervisor', async () => {
    const r = await xray(home.root, ['stop', 'box']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('VM "box" is stopped.');
    expect(existsSync(home.paths.lockFile)).toBe(false);
  });

  it('ends quietly with status 0 when the reader of its output goes away (xray firewall list box | head)', async () => {
    const child = spawn(process.execPath, [XRAY_BIN, 'firewall', 'list', 'box'], { env: { ...process.env, XRAY_HOME: home.root, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});

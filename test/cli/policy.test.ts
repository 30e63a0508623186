// `xray firewall export|import`: a VM's lasting rules and secret bindings as a
// policy file, applied to another VM after its changes are shown and agreed to.
import TOML from '@iarna/toml';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XRAY_BIN, xray, xrayAtTerminal } from '../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';

const VALUE = 'ghp_not-a-real-token-0123456789';
let home: TestHome;

beforeEach(async () => {
  home = await makeTestHome('xray-cli-policy-');
  await addFirmwareOnlyVm(home.paths, 'box');
  await addFirmwareOnlyVm(home.paths, 'other');
});

afterEach(async () => {
  await home.cleanup();
});

function setSecret(name: string, value: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [XRAY_BIN, 'secret', 'set', name], { env: { ...process.env, XRAY_HOME: home.root, XRAY_SECRET_BACKEND: 'file' } });
    child.on('close', (code) => resolve(code ?? 1));
    child.stdin.end(value);
  });
}

async function ok(args: string[]): Promise<string> {
  const r = await xray(home.root, args, { XRAY_SECRET_BACKEND: 'file' });
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

type Bindings = Record<string, { placeholder: string; hosts: string[] }>;

async function vmToml(vm: string): Promise<{ text: string; firewall: Record<string, unknown>; bindings: Bindings }> {
  const text = await readFile(home.paths.vm(vm).config, 'utf8');
  const parsed = TOML.parse(text) as { firewall?: Record<string, unknown>; secret_bindings?: Bindings };
  return { text, firewall: parsed.firewall ?? {}, bindings: parsed.secret_bindings ?? {} };
}

/** setUpBox gives box an HTTP rule, a host rule, a deny and a secret binding. */
async function setUpBox(): Promise<void> {
  expect(await setSecret('github', VALUE)).toBe(0);
  await ok(['firewall', 'add', 'box', 'allow', 'api.github.com', '--method', 'GET,POST', '--path', '/repos/acme/*']);
  await ok(['firewall', 'add', 'box', 'allow', 'registry.npmjs.org:443']);
  await ok(['firewall', 'add', 'box', 'deny', '10.0.0.0/8']);
  await ok(['secret', 'bind', 'box', 'github', '--host', 'api.github.com', '--header', 'Authorization', '--format', 'Bearer {}']);
}

describe('xray firewall export', () => {
  it('writes lasting rules and bindings as TOML, without the value or the placeholder, to stdout or a file', async () => {
    await setUpBox();
    const placeholder = (await vmToml('box')).bindings.github?.placeholder ?? '';
    const text = await ok(['firewall', 'export', 'box']);
    expect(text).toMatch(/^# Xray firewall policy, exported from VM "box"/);
    expect(TOML.parse(text)).toEqual({
      xray_policy: 1,
      firewall: { 'api.github.com GET,POST /repos/acme/*': 'allow', 'registry.npmjs.org:443': 'allow', '10.0.0.0/8': 'deny' },
      secret_bindings: { github: { hosts: ['api.github.com'], header: 'Authorization', format: 'Bearer {}', env: 'GITHUB_TOKEN' } },
    });
    expect(text).not.toContain(VALUE);
    expect(text).not.toContain(placeholder.split(':')[2]);
    expect(text).not.toMatch(/default/);

    const file = join(home.root, 'policy.toml');
    expect(await ok(['firewall', 'export', 'box', '--output', file])).toBe(`Wrote the policy of VM "box" to ${file}: 3 rules and 1 secret binding.\n`);
    expect(await readFile(file, 'utf8')).toBe(text);
  });
});

describe('xray firewall import', () => {
  it('shows the changes, refuses to apply them unasked in a script, and applies them with --yes; a second import changes nothing', async () => {
    await setUpBox();
    const file = join(home.root, 'policy.toml');
    await ok(['firewall', 'export', 'box', '--output', file]);
    const before = (await vmToml('other')).text;

    const unasked = await xray(home.root, ['firewall', 'import', 'other', file], { XRAY_SECRET_BACKEND: 'file' });
    expect(unasked.code).toBe(1);
    expect(unasked.stdout).toContain('policy.toml would change VM "other":\nRules:\n  + deny 10.0.0.0/8\n  + allow api.github.com GET,POST /repos/acme/*\n  + allow registry.npmjs.org:443\n');
    expect(unasked.stdout).toContain('Secret bindings:\n  + github → api.github.com in Authorization as "Bearer {}" (GITHUB_TOKEN)\n');
    expect(unasked.stderr).toBe('xray: Not applying policy.toml to VM "other" without a terminal to confirm on; pass --yes to apply it, or --dry-run to only see the changes.\n');
    expect((await vmToml('other')).text).toBe(before);

    const applied = await xray(home.root, ['firewall', 'import', 'other', file, '--yes'], { XRAY_SECRET_BACKEND: 'file' });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/Applied policy\.toml to VM "other": 3 rules added; 1 secret binding added\.\n$/);
    const other = await vmToml('other');
    expect(other.firewall).toEqual({ 'api.github.com GET,POST /repos/acme/*': 'allow', 'registry.npmjs.org:443': 'allow', '10.0.0.0/8': 'deny' });
    expect(other.bindings.github?.placeholder).toMatch(/^xray:github:[0-9a-f]{32}$/);
    expect(other.bindings.github?.placeholder).not.toBe((await vmToml('box')).bindings.github?.placeholder);

    const again = await xray(home.root, ['firewall', 'import', 'other', file]);
    expect(again).toMatchObject({ code: 0, stdout: 'VM "other" already follows policy.toml; nothing to change.\n' });
  });

  it('reports added, removed and changed rules and bindings, keeps a binding\'s placeholder, and names the command for a missing secret', async () => {
    await setUpBox();
    const placeholder = (await vmToml('box')).bindings.github?.placeholder;
    const file = join(home.root, 'policy.toml');
    await writeFile(
      file,
      [
        'xray_policy = 1',
        '[firewall]',
        '"api.github.com GET,POST /repos/acme/*" = "deny"',
        '"pypi.org" = "allow"',
        '"10.0.0.0/8" = "deny"',
        '[secret_bindings.github]',
        'hosts = ["api.github.com", "uploads.github.com"]',
        'header = "Authorization"',
        'format = "token {}"',
        '[secret_bindings.npm]',
        'hosts = ["registry.npmjs.org"]',
        'header = "Authorization"',
        '',
      ].join('\n'),
    );
    const dry = await xray(home.root, ['firewall', 'import', 'box', file, '--dry-run'], { XRAY_SECRET_BACKEND: 'file' });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toBe('xray: warning: secret "npm" is not set on this computer, so requests that need it will fail; set it with "xray secret set npm".\n');
    expect(dry.stdout.split('\n')).toEqual([
      'policy.toml would change VM "box":',
      'Rules:',
      '  + allow pypi.org',
      '  - allow registry.npmjs.org:443',
      '  ~ allow api.github.com GET,POST /repos/acme/*  →  deny api.github.com GET,POST /repos/acme/*',
      'Secret bindings:',
      '  + npm → registry.npmjs.org in Authorization as "{}" (NPM_TOKEN)',
      '  ~ github → api.github.com in Authorization as "Bearer {}" (GITHUB_TOKEN)  →  github → api.github.com, uploads.github.com in Authorization as "token {}" (GITHUB_TOKEN)',
      '',
    ]);
    expect(await readFile(file, 'utf8')).toContain('pypi.org');
    expect((await vmToml('box')).firewall).not.toHaveProperty('pypi.org');

    const applied = await xray(home.root, ['firewall', 'import', 'box', file, '--yes', '--json'], { XRAY_SECRET_BACKEND: 'file' });
    expect(applied.code, applied.stderr).toBe(0);
    const result = JSON.parse(applied.stdout);
    expect(result).toMatchObject({
      applied: true,
      missingSecrets: ['npm'],
      diff: {
        rules: { added: [{ target: 'pypi.org', action: 'allow', expires: null }], removed: [{ target: 'registry.npmjs.org:443' }], changed: [{ from: { action: 'allow' }, to: { action: 'deny' } }] },
        bindings: { added: [{ secret: 'npm' }], removed: [], changed: [{ from: { format: 'Bearer {}' }, to: { format: 'token {}' } }] },
      },
    });
    const box = await vmToml('box');
    expect(box.firewall).toEqual({ 'api.github.com GET,POST /repos/acme/*': 'deny', 'pypi.org': 'allow', '10.0.0.0/8': 'deny' });
    expect(box.bindings.github).toMatchObject({ placeholder, hosts: ['api.github.com', 'uploads.github.com'] });
    expect(box.bindings.npm?.placeholder).toMatch(/^xray:npm:/);
  });

  it('applies after a yes at a terminal, and changes nothing after a no', async () => {
    await setUpBox();
    const file = join(home.root, 'policy.toml');
    await ok(['firewall', 'export', 'box', '--output', file]);
    const before = (await vmToml('other')).text;
    const declined = await xrayAtTerminal(home.root, ['firewall', 'import', 'other', file], [{ expect: 'Apply these changes to VM "other"? [y/N] ', send: 'n\r' }]);
    expect(declined.code).toBe(1);
    expect(declined.output).toContain('+ allow registry.npmjs.org:443');
    expect(declined.output).toContain('Nothing was changed.');
    expect((await vmToml('other')).text).toBe(before);
    const agreed = await xrayAtTerminal(home.root, ['firewall', 'import', 'other', file], [{ expect: 'Apply these changes to VM "other"? [y/N] ', send: 'y\r' }]);
    expect(agreed.code, agreed.output).toBe(0);
    expect(agreed.output).toContain('Applied policy.toml to VM "other"');
    expect(Object.keys((await vmToml('other')).firewall)).toHaveLength(3);
  });

  it('refuses a file that is not a readable policy in one sentence, and changes nothing', async () => {
    await setUpBox();
    const before = (await vmToml('box')).text;
    const cases: [string, string][] = [
      ['[firewall]\n"pypi.org" = "allow"\n', 'bad.toml: this is not an Xray policy (it has no "xray_policy = 1" line); write one with "xray firewall export VM".'],
      ['xray_policy = 2\n', 'bad.toml: xray_policy is 2, and this Xray reads version 1 only.'],
      ['xray_policy = 1\nbase = "deb"\n', 'bad.toml: "base" is not part of a policy, which holds xray_policy, [firewall] and [secret_bindings.NAME] only.'],
      ['xray_policy = 1\n[firewall]\n"exa mple.com" = "allow"\n', 'bad.toml: rule "exa mple.com" is not a firewall target'],
      ['xray_policy = 1\n[firewall]\n"pypi.org" = "maybe"\n', 'bad.toml: rule "pypi.org" must be "allow" or "deny", not "maybe".'],
      ['xray_policy = 1\n[firewall]\n"Pypi.org" = "allow"\n"pypi.org" = "deny"\n', 'bad.toml: "Pypi.org" and "pypi.org" are the same target; keep one of them.'],
      ['xray_policy = 1\n[secret_bindings.github]\nhosts = ["a.test"]\nheader = "Authorization"\nplaceholder = "xray:github:00000000000000000000000000000000"\n', 'bad.toml: secret binding "github" has a placeholder, which each VM makes for itself; remove that line.'],
      ['xray_policy = 1\n[secret_bindings.github]\nhosts = ["a.test"]\nheader = "Authorization"\nvalue = "ghp_x"\n', 'bad.toml: secret binding "github" has "value", but a binding holds hosts, header, format and env only (never a value).'],
      ['xray_policy = 1\n[secret_bindings.github]\nhosts = ["a.test"]\nheader = "Host"\n', 'bad.toml: secret binding "github": the Host header shapes the connection and cannot carry a secret.'],
      ['xray_policy = 1\n[firewall\n', 'bad.toml line 2 is not valid TOML'],
    ];
    const file = join(home.root, 'bad.toml');
    for (const [text, message] of cases) {
      await writeFile(file, text);
      const r = await xray(home.root, ['firewall', 'import', 'box', file, '--yes']);
      expect(r.code, text).toBe(1);
      expect(r.stderr.trim().split('\n'), text).toHaveLength(1);
      expect(r.stderr, text).toContain(message);
    }
    const missing = await xray(home.root, ['firewall', 'import', 'box', join(home.root, 'none.toml'), '--yes']);
    expect(missing.stderr).toBe(`xray: There is no policy file "${join(home.root, 'none.toml')}"; write one with "xray firewall export VM --output ${join(home.root, 'none.toml')}".\n`);
    expect((await vmToml('box')).text).toBe(before);
  });
});

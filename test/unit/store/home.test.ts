import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XrayError } from '../../../src-main/shared/errors';
import { HomePaths } from '../../../src-main/core/paths';
import { DEFAULT_RULE_DOMAINS, ensureDefaultRules, readDefaultRules } from '../../../src-main/core/store/default-rules';
import { ensureHome } from '../../../src-main/core/store/home';

let tmp: string;
let paths: HomePaths;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'xray-home-'));
  paths = new HomePaths(join(tmp, 'home'));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('ensureHome', () => {
  it('creates the layout private to the user, with default rules', async () => {
    await ensureHome(paths);
    const dirs = [
      paths.root,
      paths.basesDir,
      paths.vmsDir,
      paths.pluginsDir,
      paths.globalScripts('create'),
      paths.globalScripts('initial-boot'),
      paths.globalScripts('boot'),
    ];
    for (const dir of dirs) {
      const info = await stat(dir);
      expect(info.isDirectory()).toBe(true);
      expect(info.mode & 0o777).toBe(0o700);
    }
    expect((await stat(paths.defaultFirewallRules)).mode & 0o777).toBe(0o600);
    expect(await readDefaultRules(paths)).toEqual(DEFAULT_RULE_DOMAINS);
  });

  it('runs again without touching what the user changed', async () => {
    await ensureHome(paths);
    await writeFile(paths.defaultFirewallRules, 'example.com\n');
    await writeFile(join(paths.vmsDir, 'marker'), 'x');
    await ensureHome(paths);
    expect(await readFile(paths.defaultFirewallRules, 'utf8')).toBe('example.com\n');
    expect(await readFile(join(paths.vmsDir, 'marker'), 'utf8')).toBe('x');
  });
});

describe('default firewall rules', () => {
  it('creates the file with a commented header and the common package and code hosts', async () => {
    await ensureDefaultRules(paths);
    const text = await readFile(paths.defaultFirewallRules, 'utf8');
    expect(text.startsWith('#')).toBe(true);
    const rules = await readDefaultRules(paths);
    for (const domain of ['deb.debian.org', 'security.debian.org', 'archive.ubuntu.com', 'security.ubuntu.com', 'ports.ubuntu.com', 'github.com', 'githubusercontent.com', 'pypi.org', 'files.pythonhosted.org', 'registry.npmjs.org', 'npmjs.org']) {
      expect(rules).toContain(domain);
    }
  });

  it('reads the Python tool format: comments, blank lines, case, duplicates', async () => {
    await mkdir(paths.root, { recursive: true });
    await writeFile(paths.defaultFirewallRules, '# allowed\n\nGitHub.com\n  pypi.org  # python\n*.example.com\n.example.org\ngithub.com\r\n');
    expect(await readDefaultRules(paths)).toEqual(['github.com', 'pypi.org', 'example.com', 'example.org']);
  });

  it('reports a bad line with the path and line number', async () => {
    await mkdir(paths.root, { recursive: true });
    await writeFile(paths.defaultFirewallRules, 'github.com\n# fine\nnot a domain\n');
    const err = await readDefaultRules(paths).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XrayError);
    expect((err as XrayError).code).toBe('corrupt');
    expect((err as XrayError).message).toContain(`${paths.defaultFirewallRules} line 3`);
    expect((err as XrayError).message).toContain('"not a domain"');
  });

  it('means no defaults when the file is missing', async () => {
    expect(await readDefaultRules(paths)).toEqual([]);
  });
});

// `xray share` on a stopped VM, through the built CLI: shares kept in
// vm.toml, listed, removed by either path, and every refusal one sentence
// that leaves the file as it was.
import TOML from '@iarna/toml';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { xray } from '../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';

let home: TestHome;
/** user is the host user's home for these runs (HOME), apart from XRAY_HOME. */
let user: string;
let project: string;

beforeEach(async () => {
  home = await makeTestHome('xray-cli-shares-');
  await addFirmwareOnlyVm(home.paths, 'box');
  user = await mkdtemp(join(tmpdir(), 'xray-cli-user-'));
  project = join(user, 'src', 'app');
  await mkdir(project, { recursive: true });
});

afterEach(async () => {
  await home.cleanup();
  await rm(user, { recursive: true, force: true });
});

const run = (args: readonly string[]) => xray(home.root, ['share', ...args], { HOME: user });

describe('xray share', () => {
  it('adds shares to vm.toml, lists them, and removes one by guest path and one by host folder', async () => {
    const add = await run(['add', 'box', project]);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout.trim()).toBe(`VM "box" shares ${project} at ${project} (read-write). Shares take effect at the VM's next start.`);
    const docs = join(user, 'docs');
    await mkdir(docs);
    // A link to the folder is stored as the folder it leads to.
    await symlink(docs, join(user, 'docs-link'));
    const readOnly = await run(['add', 'box', join(user, 'docs-link'), '/mnt/docs', '--read-only']);
    expect(readOnly.code, readOnly.stderr).toBe(0);
    expect(readOnly.stdout).toContain(`shares ${docs} at /mnt/docs (read-only)`);

    const file = TOML.parse(await readFile(home.paths.vm('box').config, 'utf8')) as { shares?: unknown };
    expect(file.shares).toEqual([
      { host: project, guest: project, read_only: false },
      { host: docs, guest: '/mnt/docs', read_only: true },
    ]);
    const list = await run(['list', 'box', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([
      { hostPath: project, guestPath: project, readOnly: false },
      { hostPath: docs, guestPath: '/mnt/docs', readOnly: true },
    ]);
    const table = (await run(['list', 'box'])).stdout;
    expect(table).toMatch(/HOST\s+GUEST\s+MODE/);
    expect(table).toContain('read-only');

    expect((await run(['remove', 'box', '/mnt/docs'])).stdout).toContain(`no longer shares ${docs} at /mnt/docs.`);
    expect((await run(['remove', 'box', project])).code).toBe(0);
    expect(JSON.parse((await run(['list', 'box', '--json'])).stdout)).toEqual([]);
    expect((await run(['list', 'box'])).stdout.trim()).toBe('VM "box" shares no folders; add one with "xray share add box FOLDER".');
  });

  it('refuses /, the home folder, Xray\'s home, a missing folder, a file, a system guest path and a taken one, in one sentence each, writing nothing', async () => {
    expect((await run(['add', 'box', project])).code).toBe(0);
    const before = await readFile(home.paths.vm('box').config, 'utf8');
    await writeFile(join(user, 'notes.txt'), 'x');
    const cases: [readonly string[], RegExp][] = [
      [['add', 'box', '/'], /^xray: \/ cannot be shared: it would give the VM every file on this computer; share a project folder instead\.$/],
      [['add', 'box', user], /^xray: .+ cannot be shared as a whole: it is your home folder, with your SSH keys, credentials and settings; share a project folder inside it instead\.$/],
      [['add', 'box', home.root], /cannot be shared: it is in Xray's home .+ which holds every VM's disks, SSH keys and secrets/],
      [['add', 'box', home.paths.vm('box').dir], /cannot be shared: it is in Xray's home/],
      [['add', 'box', join(home.root, '..')], /cannot be shared: it contains Xray's home/],
      [['add', 'box', join(user, 'missing')], /missing does not exist; create the folder first or check the path\.$/],
      [['add', 'box', join(user, 'notes.txt')], /notes\.txt is not a folder; share a folder\.$/],
      [['add', 'box', join(user, 'src'), '/etc'], /The guest path "\/etc" cannot be \/etc, a system directory of the guest; choose another/],
      [['add', 'box', join(user, 'src'), 'relative/dir'], /must be an absolute path/],
      [['add', 'box', join(user, 'src'), '/a/../b'], /must not contain empty, "\." or "\.\." parts/],
      [['add', 'box', join(user, 'src'), project], /already shares .+ at .+; remove it first or choose another guest path\.$/],
      [['remove', 'box', '/nowhere'], /^xray: VM "box" has no share at or from \/nowhere; see "xray share list box"\.$/],
      [['add', 'nobox', project], /VM "nobox" does not exist/],
    ];
    for (const [args, pattern] of cases) {
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stdout}`).toBe(1);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr.trim(), args.join(' ')).toMatch(pattern);
    }
    expect(await readFile(home.paths.vm('box').config, 'utf8')).toBe(before);
  });
});

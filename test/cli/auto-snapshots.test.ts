// Automatic snapshots through the built `xray` CLI on a real qcow2 and the real qemu-img: turned on per VM or in
// config.toml, taken before a hook marked risky, pruned to auto_snapshots_keep, never touching a person's snapshot.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomePaths } from '../../src-main/core/paths';
import type { SnapshotInfo, VmInfo } from '../../src-main/shared/models';
import { qemuImg, xray } from '../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';

let home: TestHome;
let paths: HomePaths;

beforeEach(async () => {
  home = await makeTestHome('xray-auto-snap-');
  paths = home.paths;
  await addFirmwareOnlyVm(paths, 's');
  await mkdir(paths.vm('s').scripts('boot'), { recursive: true });
  const upgrade = join(paths.vm('s').scripts('boot'), '20-upgrade');
  await writeFile(upgrade, `#!/bin/sh\n# xray: risky = true\necho upgrading >> '${join(home.root, 'ran')}'\n`);
  await chmod(upgrade, 0o755);
});

afterEach(async () => {
  await home.cleanup();
});

async function ok(...args: string[]): Promise<string> {
  const r = await xray(home.root, args);
  expect(r.stderr, `xray ${args.join(' ')}`).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

async function refused(args: string[], pattern: RegExp): Promise<void> {
  const before = await readFile(paths.vm('s').config, 'utf8');
  const r = await xray(home.root, args);
  expect(r.code, r.stdout).toBe(1);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(await readFile(paths.vm('s').config, 'utf8')).toBe(before);
}

const onDisk = (): string[] => qemuImg(['snapshot', '-l', paths.vm('s').disk]).split('\n').slice(2).map((l) => l.split(/\s+/)[1] ?? '').filter(Boolean);
const listed = async (): Promise<SnapshotInfo[]> => JSON.parse(await ok('snapshot', 'list', 's', '--json')) as SnapshotInfo[];

describe('automatic snapshots', () => {
  it('are off until asked for: a risky hook then runs without a snapshot', async () => {
    expect(await ok('info', 's')).toContain("  auto snaps  off (config.toml's auto_snapshots)\n");
    expect(await ok('hooks', 'list', 's')).toBe('TYPE  SOURCE  RISKY  HOOK\nboot  vm      yes    20-upgrade\n');
    await ok('hooks', 'run', 's', 'boot');
    expect(await readFile(join(home.root, 'ran'), 'utf8')).toBe('upgrading\n');
    expect(onDisk()).toEqual([]);
  });

  it('turned on for a VM, snapshot it before each risky hook and keep only the newest, never a person\'s', async () => {
    await ok('snapshot', 'create', 's', 'mine', '-m', 'before I try things');
    expect(await ok('set', 's', '--auto-snapshots', 'on')).toBe('VM "s": 256 MB, 1 CPU, SSH user ubuntu, automatic snapshots on, keeping the newest 5.\n');
    expect(await ok('config', 'set', 'auto_snapshots_keep', '2')).toBeTruthy();
    expect(await ok('info', 's')).toContain('  auto snaps  on (set for this VM), keeping the newest 2\n');

    for (let i = 0; i < 3; i++) expect(await ok('hooks', 'run', 's', 'boot')).toContain('1 of 1 boot hooks succeeded.');
    expect(await readFile(join(home.root, 'ran'), 'utf8')).toBe('upgrading\n'.repeat(3));
    expect(onDisk()).toEqual(['mine', 'auto-before-20-upgrade-2', 'auto-before-20-upgrade-3']);
    const list = await listed();
    expect(list.map((s) => [s.name, s.auto])).toEqual([['mine', false], ['auto-before-20-upgrade-2', true], ['auto-before-20-upgrade-3', true]]);
    expect(list[2]?.description).toBe('Taken automatically before the boot hook "20-upgrade" (vm), which is marked risky.');
    const table = await ok('snapshot', 'list', 's');
    expect(table).toMatch(/^NAME +TAKEN +ORIGIN +KIND/);
    expect(table).toMatch(/\nmine +\S+ +user +disk/);
    expect(table).toMatch(/\nauto-before-20-upgrade-3 +\S+ +auto +disk/);

    const timeline = await ok('timeline', 's', '--json');
    expect(timeline).toContain('Taken automatically before the boot hook \\"20-upgrade\\" (vm), which is marked risky.');

    await ok('set', 's', '--auto-snapshots', 'off');
    await ok('hooks', 'run', 's', 'boot');
    expect(onDisk()).toHaveLength(3);
  });

  it('follow config.toml unless the VM says otherwise, and "default" hands the choice back', async () => {
    await ok('config', 'set', 'auto_snapshots', 'true');
    expect(await ok('info', 's')).toContain("  auto snaps  on (config.toml's auto_snapshots), keeping the newest 5\n");
    await ok('set', 's', '--auto-snapshots', 'off');
    await ok('hooks', 'run', 's', 'boot');
    expect(onDisk()).toEqual([]);
    await ok('set', 's', '--auto-snapshots', 'default');
    expect(await readFile(paths.vm('s').config, 'utf8')).not.toContain('auto_snapshots');
    await ok('hooks', 'run', 's', 'boot');
    expect(onDisk()).toEqual(['auto-before-20-upgrade']);
    expect(await ok('set', 's', '--memory', '384')).toBe('VM "s": 384 MB, 1 CPU, SSH user ubuntu, automatic snapshots on, keeping the newest 5 (config.toml\'s auto_snapshots).\n');
    const info = JSON.parse(await ok('info', 's', '--json')) as VmInfo;
    expect(info.autoSnapshots).toEqual({ enabled: true, fromDefault: true, keep: 5 });
  });

  it('refuse bad input with one sentence and change nothing', async () => {
    await refused(['set', 's'], /^xray: Nothing to change; give --memory, --cpus, --ssh-user or --auto-snapshots/);
    await refused(['set', 's', '--auto-snapshots', 'maybe'], /maybe/);
    await refused(['set', 'nope', '--auto-snapshots', 'on'], /nope/);
    await refused(['config', 'set', 'auto_snapshots_keep', '0'], /auto_snapshots_keep/);
    await refused(['config', 'set', 'auto_snapshots', 'yes'], /true or false/);
  });
});

import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XrayError } from '../../../src-main/shared/errors';
import { HomePaths } from '../../../src-main/core/paths';
import { BaseStore, type BaseMeta } from '../../../src-main/core/store/bases';
import { parseToml } from '../../../src-main/core/store/toml-file';

let root: string;
let paths: HomePaths;
let store: BaseStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'xray-bases-'));
  paths = new HomePaths(root);
  store = new BaseStore(paths, { hostArch: 'aarch64' });
  await mkdir(paths.basesDir, { recursive: true });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const META: BaseMeta = {
  arch: 'x86_64',
  source: '/downloads/debian-12.qcow2',
  importedAt: '2025-01-02T03:04:05.000Z',
  linked: false,
  cloudInit: true,
  extra: {},
};

describe('BaseStore', () => {
  it('lists a base from the Python tool that has no NAME.toml, with the host arch', async () => {
    await writeFile(paths.baseImage('legacy'), 'qcow');
    expect(await store.list()).toEqual([
      {
        name: 'legacy',
        imagePath: paths.baseImage('legacy'),
        linked: false,
        error: null,
        meta: { arch: 'aarch64', source: null, importedAt: null, linked: false, cloudInit: true, extra: {} },
      },
    ]);
    await expect(new BaseStore(paths, { hostArch: 'x86_64' }).readMeta('legacy')).resolves.toMatchObject({ arch: 'x86_64' });
  });

  it('writes and reads metadata, keeping keys it does not know', async () => {
    await writeFile(paths.baseImage('deb'), 'qcow');
    await writeFile(paths.baseMeta('deb'), 'arch = "aarch64"\nchecksum = "sha256:abc"\n');
    const meta = await store.readMeta('deb');
    expect(meta.extra).toEqual({ checksum: 'sha256:abc' });
    await store.writeMeta('deb', { ...META, extra: meta.extra });
    expect(await store.readMeta('deb')).toEqual({ ...META, extra: { checksum: 'sha256:abc' } });
    const raw = parseToml(await readFile(paths.baseMeta('deb'), 'utf8'), paths.baseMeta('deb'));
    expect(raw).toMatchObject({ arch: 'x86_64', source: '/downloads/debian-12.qcow2', imported_at: META.importedAt, linked: false, checksum: 'sha256:abc' });
    expect(raw).not.toHaveProperty('cloud_init');
    expect((await stat(paths.baseMeta('deb'))).mode & 0o777).toBe(0o600);
  });

  it('gives cloud-init by default and keeps an opt-out as cloud_init = false', async () => {
    await writeFile(paths.baseImage('old'), 'qcow');
    await writeFile(paths.baseMeta('old'), 'arch = "x86_64"\nlinked = false\n');
    expect((await store.readMeta('old')).cloudInit).toBe(true);
    await writeFile(paths.baseImage('plain'), 'qcow');
    await store.writeMeta('plain', { ...META, cloudInit: false });
    expect(await readFile(paths.baseMeta('plain'), 'utf8')).toContain('cloud_init = false');
    expect((await store.readMeta('plain')).cloudInit).toBe(false);
  });

  it('reports bad metadata naming the key while the base still lists', async () => {
    await writeFile(paths.baseImage('odd'), 'qcow');
    await writeFile(paths.baseMeta('odd'), 'arch = "arm"\n');
    const err = await store.readMeta('odd').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XrayError);
    expect((err as XrayError).message).toContain(`${paths.baseMeta('odd')}: key "arch"`);
    const [entry] = await store.list();
    expect(entry?.name).toBe('odd');
    expect(entry?.error).toContain('key "arch"');
  });

  it('lists linked and dangling bases, skipping files that are not bases', async () => {
    const outside = join(root, 'mine.qcow2');
    await writeFile(outside, 'user data');
    await symlink(outside, paths.baseImage('linked'));
    await symlink(join(root, 'gone.qcow2'), paths.baseImage('dangling'));
    await writeFile(join(paths.basesDir, 'notes.txt'), 'x');
    await writeFile(join(paths.basesDir, '.hidden.qcow2'), 'x');
    const list = await store.list();
    expect(list.map((b) => [b.name, b.linked])).toEqual([
      ['dangling', true],
      ['linked', true],
    ]);
    expect(await store.exists('dangling')).toBe(true);
  });

  it('remove deletes only the link of a linked base, never the user file', async () => {
    const outside = join(root, 'mine.qcow2');
    await writeFile(outside, 'user data');
    await symlink(outside, paths.baseImage('linked'));
    await store.writeMeta('linked', { ...META, linked: true });
    await store.remove('linked');
    expect(await readFile(outside, 'utf8')).toBe('user data');
    expect(await store.exists('linked')).toBe(false);
    await expect(stat(paths.baseMeta('linked'))).rejects.toThrow();
  });

  it('remove deletes an imported image and its metadata', async () => {
    await writeFile(paths.baseImage('deb'), 'qcow');
    await store.writeMeta('deb', META);
    await store.remove('deb');
    expect(await store.list()).toEqual([]);
    await expect(stat(paths.baseMeta('deb'))).rejects.toThrow();
  });

  it('reports a missing base and refuses bad names', async () => {
    const missing = await store.readMeta('nope').catch((e: unknown) => e);
    expect((missing as XrayError).code).toBe('not-found');
    const bad = await store.remove('../vms').catch((e: unknown) => e);
    expect((bad as XrayError).code).toBe('invalid-argument');
    expect(await store.exists('../x')).toBe(false);
  });

  it('lists nothing when bases/ does not exist', async () => {
    await rm(paths.basesDir, { recursive: true });
    expect(await store.list()).toEqual([]);
  });
});

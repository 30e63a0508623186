import { mkdir, readdir, rename, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XrayError } from '../../../src-main/shared/errors';
import { createEfiVars, createOverlay, inspectDisk, migrateLegacyEfiVars } from '../../../src-main/core/images';
import { HomePaths } from '../../../src-main/core/paths';
import { infoJson, qemuImg, qemuIo, readsPattern, tempDir } from './helpers';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

async function homeWithBase(root: string, name: string, size: string): Promise<HomePaths> {
  const home = new HomePaths(root);
  await mkdir(home.basesDir, { recursive: true });
  await qemuImg('create', '-q', '-f', 'qcow2', home.baseImage(name), size);
  return home;
}

describe('createOverlay', () => {
  it('stores the base as a path relative to the VM directory', async () => {
    const home = await homeWithBase(join(dir, 'home'), 'debian', '1G');
    const vm = home.vm('web');

    await createOverlay(home.baseImage('debian'), vm.disk);

    const info = await infoJson(vm.disk);
    expect(info['backing-filename']).toBe('../../bases/debian.qcow2');
    expect(info['backing-filename-format']).toBe('qcow2');
    expect(info['virtual-size']).toBe(GiB);
    expect((await stat(vm.disk)).mode & 0o777).toBe(0o600);
    expect(await readdir(vm.dir)).toEqual(['disk.qcow2']);
  });

  it('keeps working after the whole home moves to another path', async () => {
    const home = await homeWithBase(join(dir, 'old-home'), 'debian', '1G');
    await qemuIo(home.baseImage('debian'), 'write -P 0x61 0 1M');
    await createOverlay(home.baseImage('debian'), home.vm('web').disk);
    await qemuIo(home.vm('web').disk, 'write -P 0x62 1M 1M');

    await mkdir(join(dir, 'elsewhere'));
    const moved = new HomePaths(join(dir, 'elsewhere', 'new-home'));
    await rename(home.root, moved.root);

    const { chain, snapshots } = await inspectDisk(moved.vm('web').disk);
    expect(snapshots).toEqual([]);
    expect(chain.map((layer) => layer.filename)).toEqual([moved.vm('web').disk, moved.baseImage('debian')]);
    expect(chain[0]).toMatchObject({ format: 'qcow2', virtualSize: GiB, backingFilename: '../../bases/debian.qcow2' });
    expect(chain[1]).toMatchObject({ format: 'qcow2', virtualSize: GiB, backingFilename: null });
    expect(await readsPattern(moved.vm('web').disk, 0x61, 0, '1M')).toBe(true);
    expect(await readsPattern(moved.vm('web').disk, 0x62, MiB, '1M')).toBe(true);
  });

  it('creates overlays of a 64 GiB base and of a 1 GiB base alike, without copying data', async () => {
    const home = await homeWithBase(join(dir, 'home'), 'small', '1G');
    await qemuImg('create', '-q', '-f', 'qcow2', home.baseImage('huge'), '64G');

    await createOverlay(home.baseImage('small'), home.vm('a').disk);
    await createOverlay(home.baseImage('huge'), home.vm('b').disk);

    expect((await infoJson(home.vm('b').disk))['virtual-size']).toBe(64 * GiB);
    expect((await stat(home.vm('b').disk)).size).toBeLessThan(2 * MiB);
  });

  it('refuses to overwrite an existing disk', async () => {
    const home = await homeWithBase(join(dir, 'home'), 'debian', '64M');
    const vm = home.vm('web');
    await mkdir(vm.dir, { recursive: true });
    await writeFile(vm.disk, 'user data');

    const err = await createOverlay(home.baseImage('debian'), vm.disk).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(XrayError);
    expect((err as XrayError).code).toBe('already-exists');
    expect(await readdir(vm.dir)).toEqual(['disk.qcow2']);
    expect((await stat(vm.disk)).size).toBe('user data'.length);
  });

  it('refuses a missing base', async () => {
    const home = new HomePaths(join(dir, 'home'));
    const err = await createOverlay(home.baseImage('ghost'), home.vm('web').disk).catch((e: unknown) => e);
    expect((err as XrayError).code).toBe('not-found');
  });
});

describe('UEFI variable store', () => {
  async function varsTemplate(): Promise<string> {
    const template = join(dir, 'VARS.fd');
    await writeFile(template, '');
    await truncate(template, 4 * MiB);
    await qemuIo(template, 'write -P 0x5c 64k 4k', 'raw');
    return template;
  }

  it('createEfiVars makes a qcow2 with the template size and bytes', async () => {
    const template = await varsTemplate();
    const dest = join(dir, 'vm', 'efivars.qcow2');

    await createEfiVars(template, dest);

    const info = await infoJson(dest);
    expect(info.format).toBe('qcow2');
    expect(info['virtual-size']).toBe(4 * MiB);
    await expect(qemuImg('compare', '-f', 'raw', '-F', 'qcow2', template, dest)).resolves.toContain('Images are identical');
    expect((await stat(dest)).mode & 0o777).toBe(0o600);
  });

  it('creates from a real firmware vars template when one is installed', async () => {
    const candidates = ['/usr/share/AAVMF/AAVMF_VARS.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd', '/usr/share/OVMF/OVMF_VARS.fd'];
    const found = [];
    for (const candidate of candidates) {
      if (await stat(candidate).then(() => true, () => false)) found.push(candidate);
    }
    for (const template of found) {
      const dest = join(dir, `${found.indexOf(template)}.qcow2`);
      await createEfiVars(template, dest);
      expect((await infoJson(dest))['virtual-size']).toBe((await stat(template)).size);
      await expect(qemuImg('compare', '-f', 'raw', '-F', 'qcow2', template, dest)).resolves.toContain('Images are identical');
    }
  });

  it('migrateLegacyEfiVars keeps the variables and removes the raw file only after success', async () => {
    const raw = join(dir, 'efivars.fd');
    const template = await varsTemplate();
    await rename(template, raw);
    await qemuIo(raw, 'write -P 0x9e 1M 8k', 'raw');
    const copyOfRaw = join(dir, 'copy.fd');
    await qemuImg('convert', '-f', 'raw', '-O', 'raw', raw, copyOfRaw);
    const target = join(dir, 'efivars.qcow2');

    await migrateLegacyEfiVars(raw, target);

    expect(await readdir(dir)).toEqual(expect.not.arrayContaining(['efivars.fd']));
    await expect(qemuImg('compare', '-f', 'raw', '-F', 'qcow2', copyOfRaw, target)).resolves.toContain('Images are identical');
    expect((await stat(target)).mode & 0o777).toBe(0o600);
  });

  it('migrateLegacyEfiVars keeps the raw file when a different qcow2 store is already there', async () => {
    const raw = join(dir, 'efivars.fd');
    await rename(await varsTemplate(), raw);
    const target = join(dir, 'efivars.qcow2');
    await qemuImg('create', '-q', '-f', 'qcow2', target, '4M');

    const err = await migrateLegacyEfiVars(raw, target).catch((e: unknown) => e);

    expect((err as XrayError).code).toBe('already-exists');
    expect(await readdir(dir)).toEqual(expect.arrayContaining(['efivars.fd', 'efivars.qcow2']));
  });

  it('migrateLegacyEfiVars finishes a migration interrupted before the raw file was removed', async () => {
    const raw = join(dir, 'efivars.fd');
    await rename(await varsTemplate(), raw);
    const target = join(dir, 'efivars.qcow2');
    await qemuImg('convert', '-f', 'raw', '-O', 'qcow2', raw, target);

    await migrateLegacyEfiVars(raw, target);

    expect(await readdir(dir)).toEqual(['efivars.qcow2']);
  });
});

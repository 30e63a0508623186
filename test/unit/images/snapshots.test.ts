import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  QemuImg,
  createEfiVars,
  createOverlay,
  createSnapshot,
  deleteSnapshot,
  listSnapshots,
  revertSnapshot,
} from '../../../src-main/core/images';
import { HomePaths, type VmPaths } from '../../../src-main/core/paths';
import { qemuImg, qemuIo, readsPattern, tempDir } from './helpers';
import { refusal } from '../../helpers/refusal';

let dir: string;
let cleanup: () => Promise<void>;
let vm: VmPaths;
let images: string[];

/** A stopped VM as Xray lays it out: an overlay disk over a base, and a qcow2 UEFI store. */
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  const home = new HomePaths(join(dir, 'home'));
  await mkdir(home.basesDir, { recursive: true });
  await qemuImg('create', '-q', '-f', 'qcow2', home.baseImage('debian'), '256M');
  vm = home.vm('web');
  await createOverlay(home.baseImage('debian'), vm.disk);
  const template = join(dir, 'VARS.fd');
  await writeFile(template, '');
  await truncate(template, 1024 * 1024);
  await createEfiVars(template, vm.efiVars);
  images = [vm.disk, vm.efiVars];
});
afterEach(async () => cleanup());

async function snapshotNames(image: string): Promise<string[]> {
  const info = await new QemuImg().info(image);
  return (info.snapshots ?? []).map((snapshot) => snapshot.name);
}

describe('offline snapshots of a disk and its UEFI store', () => {
  it('creates a snapshot on every image and lists it from the disk', async () => {
    const before = Date.now();
    const created = await createSnapshot(images, 'clean');

    expect(created).toMatchObject({ name: 'clean', vmStateSize: 0, hasMemory: false, description: null });
    expect(Date.parse(created.date)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(await snapshotNames(vm.disk)).toEqual(['clean']);
    expect(await snapshotNames(vm.efiVars)).toEqual(['clean']);
    expect((await listSnapshots(images)).map((s) => s.name)).toEqual(['clean']);
  });

  it('lists snapshots oldest first', async () => {
    await createSnapshot(images, 'first');
    await createSnapshot(images, 'second');
    await createSnapshot(images, 'third');
    const listed = await listSnapshots(images);
    expect(listed.map((s) => s.name)).toEqual(['first', 'second', 'third']);
    const dates = listed.map((s) => Date.parse(s.date));
    expect(dates).toEqual([...dates].sort((a, b) => a - b));
  });

  it('reverts the data of both images', async () => {
    await qemuIo(vm.disk, 'write -P 0xab 0 64k');
    await qemuIo(vm.efiVars, 'write -P 0x01 0 4k');
    await createSnapshot(images, 'before-upgrade');
    await qemuIo(vm.disk, 'write -P 0xcd 0 64k');
    await qemuIo(vm.efiVars, 'write -P 0x02 0 4k');

    await revertSnapshot(images, 'before-upgrade');

    expect(await readsPattern(vm.disk, 0xab, 0, '64k')).toBe(true);
    expect(await readsPattern(vm.efiVars, 0x01, 0, '4k')).toBe(true);
  });

  it('reverts by name even when another snapshot has that name as its id', async () => {
    await qemuIo(vm.disk, 'write -P 0x11 0 64k');
    await createSnapshot(images, 'one');
    await qemuIo(vm.disk, 'write -P 0x22 0 64k');
    await createSnapshot(images, '1');
    await qemuIo(vm.disk, 'write -P 0x33 0 64k');

    await revertSnapshot(images, '1');

    expect(await readsPattern(vm.disk, 0x22, 0, '64k')).toBe(true);
  });

  it('deletes a snapshot from every image', async () => {
    await createSnapshot(images, 'keep');
    await createSnapshot(images, 'drop');

    await deleteSnapshot(images, 'drop');

    expect(await snapshotNames(vm.disk)).toEqual(['keep']);
    expect(await snapshotNames(vm.efiVars)).toEqual(['keep']);
  });

  it('refuses a duplicate name', async () => {
    await createSnapshot(images, 'same');
    const err = await refusal(createSnapshot(images, 'same'));
    expect(err.code).toBe('already-exists');
    expect(await snapshotNames(vm.disk)).toEqual(['same']);
  });

  it('reports an unknown snapshot with the command that lists them', async () => {
    for (const op of [revertSnapshot, deleteSnapshot]) {
      const err = await refusal(op(images, 'missing'));
      expect(err.code).toBe('not-found');
      expect(err.message).toBe('VM "web" has no snapshot named "missing"; run "xray snapshot list web" to see its snapshots.');
    }
  });

  it('refuses an invalid name before touching any image', async () => {
    const err = await refusal(createSnapshot(images, '-l'));
    expect(err.code).toBe('invalid-argument');
    expect(await snapshotNames(vm.disk)).toEqual([]);
  });

  it('removes the snapshot again from the images done when a later image fails', async () => {
    // A qemu-io session holds the store's write lock, as a running QEMU would.
    const holder = spawn('qemu-io', ['-f', 'qcow2', vm.efiVars], { stdio: ['pipe', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));

      const err = await refusal(createSnapshot(images, 'partial'));

      expect(err.code).toBe('qemu');
      expect(err.message).toContain(vm.efiVars);
      expect(err.message).toContain('lock');
      expect(await snapshotNames(vm.disk)).toEqual([]);
    } finally {
      holder.kill();
      await once(holder, 'close');
    }
    expect(await snapshotNames(vm.efiVars)).toEqual([]);
  });
});

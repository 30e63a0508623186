// The overlay template: a base's first VM disk is kept, and later VMs of the
// same base get a copy of it instead of a qemu-img run.
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOverlay, QemuImg } from '../../../src-main/core/images';
import { HomePaths } from '../../../src-main/core/paths';
import { infoJson, qemuImg, qemuIo, readsPattern, tempHome } from './helpers';

const GiB = 1024 * 1024 * 1024;

/** CountingQemuImg is the real qemu-img, counting the images it creates. */
class CountingQemuImg extends QemuImg {
  creates = 0;
  override async create(...args: Parameters<QemuImg['create']>): ReturnType<QemuImg['create']> {
    this.creates += 1;
    return super.create(...args);
  }
}

let dir: string;
let cleanup: () => Promise<void>;
let home: HomePaths;

beforeEach(async () => {
  ({ dir, home, cleanup } = await tempHome());
  await qemuImg('create', '-q', '-f', 'qcow2', home.baseImage('debian'), '1G');
  await qemuIo(home.baseImage('debian'), 'write -P 0x61 0 1M');
});
afterEach(async () => cleanup());

describe('createOverlay with a template cache', () => {
  it('runs qemu-img for the first VM of a base only, and gives later VMs the bytes qemu-img would have written', async () => {
    const counting = new CountingQemuImg();
    const templates = home.overlayTemplates('debian');
    await createOverlay(home.baseImage('debian'), home.vm('a').disk, counting, templates);
    await createOverlay(home.baseImage('debian'), home.vm('b').disk, counting, templates);
    await createOverlay(home.baseImage('debian'), home.vm('c').disk, counting, templates);
    expect(counting.creates).toBe(1);
    expect(await readdir(templates)).toHaveLength(1);

    await createOverlay(home.baseImage('debian'), home.vm('fresh').disk);
    const fresh = await readFile(home.vm('fresh').disk);
    expect((await readFile(home.vm('b').disk)).equals(fresh)).toBe(true);
    expect((await readFile(home.vm('c').disk)).equals(fresh)).toBe(true);

    // Each copy is a disk of its own: a write to one shows in no other.
    await qemuIo(home.vm('b').disk, 'write -P 0x62 0 1M');
    expect(await readsPattern(home.vm('b').disk, 0x62, 0, '1M')).toBe(true);
    expect(await readsPattern(home.vm('c').disk, 0x61, 0, '1M')).toBe(true);
    expect(await readsPattern(home.vm('a').disk, 0x61, 0, '1M')).toBe(true);
    await qemuImg('check', home.vm('c').disk);
  });

  it('is not used for a base file that was replaced, so a new VM has the new base size', async () => {
    const templates = home.overlayTemplates('debian');
    await createOverlay(home.baseImage('debian'), home.vm('a').disk, new QemuImg(), templates);
    await rm(home.baseImage('debian'));
    await qemuImg('create', '-q', '-f', 'qcow2', home.baseImage('debian'), '3G');

    const counting = new CountingQemuImg();
    await createOverlay(home.baseImage('debian'), home.vm('b').disk, counting, templates);

    expect(counting.creates).toBe(1);
    expect((await infoJson(home.vm('b').disk))['virtual-size']).toBe(3 * GiB);
  });

  it('makes the VM all the same when the template cannot be kept', async () => {
    const templates = join(dir, 'not-a-directory');
    await qemuImg('create', '-q', '-f', 'qcow2', templates, '1M');
    const counting = new CountingQemuImg();
    await createOverlay(home.baseImage('debian'), home.vm('a').disk, counting, templates);
    await createOverlay(home.baseImage('debian'), home.vm('b').disk, counting, templates);
    expect(counting.creates).toBe(2);
    expect((await infoJson(home.vm('b').disk))['backing-filename']).toBe('../../bases/debian.qcow2');
  });
});

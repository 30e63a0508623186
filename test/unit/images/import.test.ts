import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, readlink, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importBase, validateImportSource } from '../../../src-main/core/images';
import { infoJson, qemuImg, qemuIo, readsPattern, tempDir } from './helpers';
import { refusal } from '../../helpers/refusal';

const MiB = 1024 * 1024;

let dir: string;
let cleanup: () => Promise<void>;
let bases: string;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  bases = join(dir, 'bases');
  await mkdir(bases);
});
afterEach(async () => cleanup());

async function qcow2(name: string, size = '64M'): Promise<string> {
  const path = join(dir, name);
  await qemuImg('create', '-q', '-f', 'qcow2', path, size);
  return path;
}

async function basesDirIsEmpty(): Promise<void> {
  expect(await readdir(bases)).toEqual([]);
}

describe('importBase copy', () => {
  it('copies a real qcow2 into bases as a private qcow2 of the same virtual size and content', async () => {
    const source = await qcow2('ubuntu.qcow2', '1G');
    await qemuIo(source, 'write -P 0x5a 1M 2M');
    const dest = join(bases, 'ubuntu.qcow2');
    const seen: Array<[number, number]> = [];

    const result = await importBase({ source, dest, onProgress: (done, total) => seen.push([done, total]) });

    expect(result).toMatchObject({ linked: false, virtualSize: 1024 * MiB });
    expect(result.fileSize).toBe((await stat(dest)).size);
    expect((await stat(dest)).mode & 0o777).toBe(0o600);
    const info = await infoJson(dest);
    expect(info.format).toBe('qcow2');
    expect(info['virtual-size']).toBe(1024 * MiB);
    expect(await readsPattern(dest, 0x5a, 1024 * 1024, '2M')).toBe(true);
    expect(await readdir(bases)).toEqual(['ubuntu.qcow2']);
    expect(seen.at(-1)?.[0]).toBe(seen.at(-1)?.[1]);
  });

  it('reports progress that only grows and ends at the total', async () => {
    const source = await qcow2('data.qcow2', '256M');
    await qemuIo(source, 'write -P 0x11 0 40M');
    const seen: Array<[number, number]> = [];

    await importBase({ source, dest: join(bases, 'data.qcow2'), onProgress: (done, total) => seen.push([done, total]) });

    expect(seen.length).toBeGreaterThan(0);
    const dones = seen.map(([done]) => done);
    expect(dones).toEqual([...dones].sort((a, b) => a - b));
    const [lastDone, lastTotal] = seen.at(-1)!;
    expect(lastDone).toBe(lastTotal);
    expect(lastTotal).toBe((await stat(source)).size);
  });

  it('leaves nothing in bases when aborted in the middle of a 200 MB copy', async () => {
    const source = await qcow2('large.qcow2', '1G');
    await qemuIo(source, 'write -P 0x77 0 200M');
    const controller = new AbortController();
    const seen: number[] = [];

    const err = await refusal(
      importBase({
        source,
        dest: join(bases, 'large.qcow2'),
        signal: controller.signal,
        onProgress: (done) => {
          seen.push(done);
          controller.abort();
        },
      }),
    );

    expect(err.code).toBe('cancelled');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toBeLessThan((await stat(source)).size);
    await basesDirIsEmpty();
  });

  it('refuses a name that is taken and keeps the existing base', async () => {
    const source = await qcow2('a.qcow2');
    const dest = join(bases, 'taken.qcow2');
    await writeFile(dest, 'existing base');

    const err = await refusal(importBase({ source, dest }));

    expect(err.code).toBe('already-exists');
    expect(err.message).toContain('"taken"');
    expect(await readdir(bases)).toEqual(['taken.qcow2']);
    expect((await stat(dest)).size).toBe('existing base'.length);
  });
});

describe('importBase --link', () => {
  it('symlinks to the absolute source path and leaves the source mode alone', async () => {
    const source = await qcow2('linked.qcow2');
    const modeBefore = (await stat(source)).mode;
    const dest = join(bases, 'linked.qcow2');

    const result = await importBase({ source, dest, link: true });

    expect(result.linked).toBe(true);
    expect(result.virtualSize).toBe(64 * MiB);
    expect((await lstat(dest)).isSymbolicLink()).toBe(true);
    expect(await readlink(dest)).toBe(source);
    expect((await stat(source)).mode).toBe(modeBefore);
  });

  it('still validates the source before linking', async () => {
    const source = await rawDisk('raw.qcow2');

    const err = await refusal(importBase({ source, dest: join(bases, 'raw.qcow2'), link: true }));

    expect(err.message).toContain('raw disk image');
    await basesDirIsEmpty();
  });
});

/** rawDisk makes a 64 MiB raw image that begins like a disk: a boot sector's 0x55AA signature. */
async function rawDisk(name: string): Promise<string> {
  const source = join(dir, name);
  const sector = Buffer.alloc(512);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  await writeFile(source, sector);
  await truncate(source, 64 * MiB);
  return source;
}

describe('validation refuses before writing anything', () => {
  it('refuses a text file as too small to be a disk, even with --convert', async () => {
    const source = join(dir, 'notes.txt');
    await writeFile(source, 'hello\n');
    const err = await refusal(importBase({ source, dest: join(bases, 'notes.qcow2'), convert: true }));
    expect(err.message).toBe(`${source} is only 6 bytes, so it cannot be a bootable disk; import a disk image such as a cloud image.`);
    await basesDirIsEmpty();
  });

  it('refuses random bytes with no partition table, even with --convert', async () => {
    const source = join(dir, 'noise.img');
    const noise = randomBytes(MiB);
    noise[510] = 0;
    await writeFile(source, noise);
    const err = await refusal(importBase({ source, dest: join(bases, 'noise.qcow2'), convert: true }));
    expect(err.message).toContain('has no partition table (MBR or GPT) at its start, so it cannot be a bootable disk');
    await basesDirIsEmpty();
  });

  it('converts a raw image that has a GPT header after its protective MBR sector', async () => {
    const source = join(dir, 'gpt.img');
    const head = Buffer.alloc(1024);
    head.write('EFI PART', 512, 'latin1');
    await writeFile(source, head);
    await truncate(source, 8 * MiB);
    await importBase({ source, dest: join(bases, 'gpt.qcow2'), convert: true });
    expect((await stat(join(bases, 'gpt.qcow2'))).isFile()).toBe(true);
  });

  it('refuses a raw file renamed .qcow2 and offers --convert', async () => {
    const source = await rawDisk('renamed.qcow2');

    const err = await refusal(importBase({ source, dest: join(bases, 'renamed.qcow2') }));

    expect(err.code).toBe('invalid-argument');
    expect(err.message).toBe(`${source} is a raw disk image, not qcow2; convert it to qcow2 first (xray base import --convert does).`);
    expect(err.cli).toBe(`${source} is a raw disk image, not qcow2; pass --convert to convert it to qcow2.`);
    await basesDirIsEmpty();
  });

  it('refuses a vmdk with a --convert hint, then converts it with --convert', async () => {
    const original = await qcow2('original.qcow2', '128M');
    await qemuIo(original, 'write -P 0xc3 4M 1M');
    const source = join(dir, 'disk.vmdk');
    await qemuImg('convert', '-f', 'qcow2', '-O', 'vmdk', original, source);
    const dest = join(bases, 'disk.qcow2');

    const err = await refusal(importBase({ source, dest }));
    expect(err.cli).toContain('is a vmdk disk image, not qcow2; pass --convert');
    expect(err.message).not.toContain('--convert to');
    await basesDirIsEmpty();

    const percents: Array<[number, number]> = [];
    const result = await importBase({ source, dest, convert: true, onProgress: (done, total) => percents.push([done, total]) });

    expect(result.virtualSize).toBe(128 * MiB);
    const info = await infoJson(dest);
    expect(info.format).toBe('qcow2');
    expect(info['backing-filename']).toBeUndefined();
    expect(await readsPattern(dest, 0xc3, 4 * MiB, '1M')).toBe(true);
    expect((await stat(dest)).mode & 0o777).toBe(0o600);
    expect(percents.at(-1)).toEqual([128 * MiB, 128 * MiB]);
    expect(await readdir(bases)).toEqual(['disk.qcow2']);
  });

  it('leaves nothing in bases when a --convert is aborted while qemu-img runs', async () => {
    const original = await qcow2('slow.qcow2', '1G');
    await qemuIo(original, 'write -P 0x31 0 64M');
    const source = join(dir, 'slow.vmdk');
    await qemuImg('convert', '-f', 'qcow2', '-O', 'vmdk', original, source);
    const controller = new AbortController();

    const err = await refusal(
      importBase({
        source,
        dest: join(bases, 'slow.qcow2'),
        convert: true,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      }),
    );

    expect(err.code).toBe('cancelled');
    await basesDirIsEmpty();
  });

  it('refuses a qcow2 whose backing file is a host file, and writes nothing', async () => {
    const source = join(dir, 'evil.qcow2');
    await qemuImg('create', '-q', '-f', 'qcow2', '-b', '/etc/hostname', '-F', 'raw', source);

    const err = await refusal(importBase({ source, dest: join(bases, 'evil.qcow2') }));

    expect(err.code).toBe('invalid-argument');
    expect(err.message).toBe(
      `${source} references the backing file /etc/hostname; Xray refuses images with backing files because a guest could read host files through them. Import a standalone copy of it (qemu-img convert makes one).`,
    );
    expect(err.cli).toContain('Pass --flatten to import a standalone copy.');
    await basesDirIsEmpty();
  });

  it('refuses a backing reference to a network source even with --flatten', async () => {
    const source = join(dir, 'remote.qcow2');
    await qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', 'nbd://127.0.0.1:1/export', '-F', 'raw', source, '64M');

    const err = await refusal(importBase({ source, dest: join(bases, 'remote.qcow2'), flatten: true }));

    expect(err.code).toBe('unsupported');
    expect(err.message).toContain('not a local file');
    await basesDirIsEmpty();
  });

  it('refuses a qcow2 that keeps its data in an external file', async () => {
    const source = join(dir, 'external.qcow2');
    await qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${join(dir, 'external.raw')}`, source, '64M');

    const err = await refusal(importBase({ source, dest: join(bases, 'external.qcow2') }));

    expect(err.message).toContain('keeps its data in the separate file');
    await basesDirIsEmpty();
  });

  it('--flatten imports a standalone image holding the backing data', async () => {
    const backing = await qcow2('backing.qcow2', '64M');
    await qemuIo(backing, 'write -P 0x42 0 1M');
    const source = join(dir, 'child.qcow2');
    await qemuImg('create', '-q', '-f', 'qcow2', '-b', backing, '-F', 'qcow2', source);
    await qemuIo(source, 'write -P 0x43 1M 1M');
    const dest = join(bases, 'child.qcow2');

    await importBase({ source, dest, flatten: true });

    const info = await infoJson(dest);
    expect(info.format).toBe('qcow2');
    expect(info['backing-filename']).toBeUndefined();
    expect(await readsPattern(dest, 0x42, 0, '1M')).toBe(true);
    expect(await readsPattern(dest, 0x43, MiB, '1M')).toBe(true);
  });

  it('--flatten fails cleanly when the backing file is missing', async () => {
    const source = join(dir, 'orphan.qcow2');
    await qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', join(dir, 'gone.qcow2'), '-F', 'qcow2', source, '64M');

    const err = await refusal(importBase({ source, dest: join(bases, 'orphan.qcow2'), flatten: true }));

    expect(err.code).toBe('qemu');
    expect(err.message).toContain('gone.qcow2');
    await basesDirIsEmpty();
  });

  it('refuses a missing file', async () => {
    const source = join(dir, 'nope.qcow2');
    const err = await refusal(importBase({ source, dest: join(bases, 'nope.qcow2') }));
    expect(err.code).toBe('not-found');
    expect(err.message).toContain(source);
    await basesDirIsEmpty();
  });

  it('refuses a directory', async () => {
    const source = join(dir, 'folder.qcow2');
    await mkdir(source);
    const err = await refusal(importBase({ source, dest: join(bases, 'folder.qcow2') }));
    expect(err.message).toContain('is a directory');
    await basesDirIsEmpty();
  });

  it('refuses an encrypted qcow2', async () => {
    const source = join(dir, 'secret.qcow2');
    // qemu-img times its key derivation with the thread's CPU clock, which a busy
    // sandbox can report as unchanged ("Unable to get accurate CPU usage"): try again.
    for (let attempt = 1; ; attempt++) {
      try {
        await qemuImg(
          'create', '-q', '-f', 'qcow2', '--object', 'secret,id=s0,data=pw',
          '-o', 'encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10', source, '64M',
        );
        break;
      } catch (err) {
        if (attempt === 5 || !String(err).includes('Unable to get accurate CPU usage')) throw err;
      }
    }
    const err = await refusal(importBase({ source, dest: join(bases, 'secret.qcow2') }));
    expect(err.code).toBe('unsupported');
    expect(err.message).toContain('encrypted');
    await basesDirIsEmpty();
  });

  it('refuses a qcow2 marked corrupt', async () => {
    const source = await qcow2('broken.qcow2');
    const header = Buffer.alloc(8);
    header.writeBigUInt64BE(2n);
    const handle = await open(source, 'r+');
    await handle.write(header, 0, 8, 72); // incompatible_features: bit 1 is "corrupt"
    await handle.close();

    const err = await refusal(importBase({ source, dest: join(bases, 'broken.qcow2') }));

    expect(err.code).toBe('corrupt');
    await basesDirIsEmpty();
  });

  it('validateImportSource describes a good image', async () => {
    const source = await qcow2('good.qcow2', '512M');
    const described = await validateImportSource(source);
    expect(described).toMatchObject({
      path: source,
      format: 'qcow2',
      virtualSize: 512 * MiB,
      backingFile: null,
      dataFile: null,
      encrypted: false,
      needsConversion: false,
    });
  });
});

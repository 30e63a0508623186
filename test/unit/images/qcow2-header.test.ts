// The qcow2 header reader behind `xray info` against real images made by real
// qemu-img: where it answers, the answer is qemu-img's; where it is unsure, it
// leaves the answer to one qemu-img run.
import { spawn } from 'node:child_process';
import { open, truncate } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QemuImg, createOverlay, inspectDisk, type ImageInfo, type SpawnFunction } from '../../../src-main/core/images';
import { readQcow2Chain } from '../../../src-main/core/images/qcow2-header';
import { HomePaths } from '../../../src-main/core/paths';
import { qemuImg, qemuIo, tempHome } from './helpers';

let dir: string;
let cleanup: () => Promise<void>;
let home: HomePaths;

beforeEach(async () => {
  ({ dir, home, cleanup } = await tempHome());
});
afterEach(async () => cleanup());

/** The fields of `qemu-img info --backing-chain` that Xray reads, as qemu-img prints them. */
async function qemuImgLayers(disk: string): Promise<ImageInfo[]> {
  const layers = await new QemuImg().info(disk, { backingChain: true, format: 'qcow2' });
  return layers.map((layer) => {
    const picked: ImageInfo = { filename: layer.filename, format: layer.format, 'virtual-size': layer['virtual-size'], 'actual-size': layer['actual-size'] };
    if (layer['backing-filename'] !== undefined) picked['backing-filename'] = layer['backing-filename'];
    if (layer.snapshots !== undefined) picked.snapshots = layer.snapshots;
    return picked;
  });
}

/** What inspectDisk answered before the reader: qemu-img's layers, named from the disk's directory. */
async function qemuImgAnswer(disk: string): Promise<Awaited<ReturnType<typeof inspectDisk>>> {
  const layers = await new QemuImg().info(disk, { backingChain: true, format: 'qcow2' });
  return {
    chain: layers.map((layer) => ({
      filename: resolve(dirname(resolve(disk)), layer.filename),
      format: layer.format,
      virtualSize: layer['virtual-size'],
      actualSize: layer['actual-size'] ?? 0,
      backingFilename: layer['backing-filename'] ?? null,
    })),
    snapshots: layers[0]?.snapshots ?? [],
  };
}

/** inspectDisk with a qemu-img that counts its runs. */
async function inspectCounting(disk: string): Promise<{ answer: unknown; qemuImgRuns: number }> {
  let qemuImgRuns = 0;
  const counting: SpawnFunction = ((...args: Parameters<typeof spawn>) => {
    qemuImgRuns++;
    return spawn(...args);
  }) as SpawnFunction;
  const answer = await settle(inspectDisk(disk, new QemuImg({ spawn: counting })));
  return { answer, qemuImgRuns };
}

async function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: string }> {
  return promise.then(
    (value) => ({ value }),
    (err: unknown) => ({ error: (err as Error).message }),
  );
}

/** expectReaderAnswers checks the reader alone answers for `disk`, exactly as qemu-img does. */
async function expectReaderAnswers(disk: string): Promise<ImageInfo[]> {
  const expected = await qemuImgLayers(disk);
  expect(await readQcow2Chain(disk)).toStrictEqual(expected);
  const { answer, qemuImgRuns } = await inspectCounting(disk);
  expect(qemuImgRuns).toBe(0);
  expect(answer).toStrictEqual({ value: await qemuImgAnswer(disk) });
  return expected;
}

/** expectQemuImgAnswers checks the reader gives up on `disk` and inspectDisk answers (or fails) as qemu-img does. */
async function expectQemuImgAnswers(disk: string): Promise<void> {
  expect(await readQcow2Chain(disk)).toBeNull();
  const { answer, qemuImgRuns } = await inspectCounting(disk);
  expect(qemuImgRuns).toBe(1);
  expect(answer).toStrictEqual(await settle(qemuImgAnswer(disk)));
}

async function base(name: string, ...options: string[]): Promise<string> {
  await qemuImg('create', '-q', '-f', 'qcow2', ...options, home.baseImage(name), '1G');
  return home.baseImage(name);
}

/** patch overwrites bytes of a file in place. */
async function patch(path: string, offset: number, bytes: number[]): Promise<void> {
  const handle = await open(path, 'r+');
  await handle.write(Buffer.from(bytes), 0, bytes.length, offset);
  await handle.close();
}

describe('readQcow2Chain answers as qemu-img does', () => {
  it('for a fresh VM overlay over its base', async () => {
    await createOverlay(await base('debian'), home.vm('web').disk);

    const layers = await expectReaderAnswers(home.vm('web').disk);
    expect(layers.map((l) => l.filename)).toEqual([home.vm('web').disk, `${home.vm('web').dir}/../../bases/debian.qcow2`]);
  });

  it('for an overlay of an overlay with data in every layer, and for absolute and ./ backing names', async () => {
    await createOverlay(await base('debian'), home.vm('web').disk);
    const top = join(dir, 'top.qcow2');
    await qemuImg('create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', home.vm('web').disk, top);
    await qemuIo(home.baseImage('debian'), 'write -P 0x61 0 3M');
    await qemuIo(home.vm('web').disk, 'write -P 0x62 1M 1M');
    await qemuIo(top, 'write -P 0x63 2M 1M');
    expect((await expectReaderAnswers(top)).map((l) => l['backing-filename'])).toEqual([home.vm('web').disk, '../../bases/debian.qcow2', undefined]);

    const beside = join(dir, 'beside.qcow2');
    await qemuImg('create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', './top.qcow2', beside);
    expect((await expectReaderAnswers(beside))[1]?.filename).toBe(`${dir}/./top.qcow2`);
  });

  it('for several snapshots, one deleted, with unicode and 255-byte names', async () => {
    const disk = await base('debian');
    const names = ['clean', 'after apt upgrade', 'snäp ☃ 🚀 日本語', 'é'.repeat(127) + 'x', 'doomed', 'last'];
    for (const name of names) {
      await qemuImg('snapshot', '-c', name, disk);
      await qemuIo(disk, `write -P 0x${names.indexOf(name) + 1}0 0 64k`);
    }
    await qemuImg('snapshot', '-d', 'doomed', disk);

    const [layer] = await expectReaderAnswers(disk);
    expect(layer?.snapshots?.map((s) => [s.id, s.name])).toEqual([['1', 'clean'], ['2', 'after apt upgrade'], ['3', names[2]], ['4', names[3]], ['6', 'last']]);
  });

  it('for v2 (compat=0.10) images with snapshots, under a v3 overlay', async () => {
    const old = await base('old', '-o', 'compat=0.10');
    await qemuImg('snapshot', '-c', 'v2-snap', old);
    await createOverlay(old, home.vm('web').disk);
    await qemuImg('snapshot', '-c', 'top-snap', home.vm('web').disk);

    const layers = await expectReaderAnswers(home.vm('web').disk);
    expect(layers.map((l) => l.snapshots?.[0]?.name)).toEqual(['top-snap', 'v2-snap']);
  });
});

describe('readQcow2Chain leaves the answer to qemu-img', () => {
  it('for a snapshot name qemu-img cut inside a UTF-8 character, and a header with an unknown feature bit', async () => {
    const disk = await base('cut');
    await qemuImg('snapshot', '-c', 'é'.repeat(128), disk);
    await expectQemuImgAnswers(disk);

    await createOverlay(await base('debian'), home.vm('web').disk);
    await patch(home.vm('web').disk, 72 + 6, [0x04]); // incompatible_features bit 10
    await expectQemuImgAnswers(home.vm('web').disk);
  });

  it('for dirty and corrupt images, which qemu-img still describes', async () => {
    const dirty = await base('dirty');
    await patch(dirty, 79, [0x01]);
    await expectQemuImgAnswers(dirty);
    const corrupt = await base('corrupt');
    await patch(corrupt, 79, [0x02]);
    await expectQemuImgAnswers(corrupt);
  });

  it('for files that are not qcow2 or are cut short, and a disk that does not exist', async () => {
    await createOverlay(await base('debian'), home.vm('web').disk);
    await patch(home.vm('web').disk, 0, [0x51, 0x46, 0x49, 0x00]);
    await expectQemuImgAnswers(home.vm('web').disk);

    await createOverlay(await base('short'), home.vm('short').disk);
    await truncate(home.baseImage('short'), 70);
    await expectQemuImgAnswers(home.vm('short').disk);
    await truncate(home.vm('short').disk, 600);
    await expectQemuImgAnswers(home.vm('short').disk);

    await expectQemuImgAnswers(home.vm('missing').disk);
  });

  it('for a snapshot table entry with an implausible id size', async () => {
    const disk = await base('debian');
    await qemuImg('snapshot', '-c', 'one', disk);
    const handle = await open(disk, 'r');
    const header = Buffer.alloc(72);
    await handle.read(header, 0, 72, 0);
    await handle.close();
    await patch(disk, Number(header.readBigUInt64BE(64)) + 12, [0xff, 0xff]);
    await expectQemuImgAnswers(disk);
  });

  it('for encryption, an external data file, a raw backing layer and a backing loop', async () => {
    const secret = ['--object', 'secret,id=sec0,data=hunter2'];
    const encrypted = join(dir, 'encrypted.qcow2');
    await qemuImg('create', '-q', ...secret, '-f', 'qcow2', '-o', 'encrypt.format=aes,encrypt.key-secret=sec0', encrypted, '64M');
    await expectQemuImgAnswers(encrypted);

    const withData = join(dir, 'data.qcow2');
    await qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${join(dir, 'data.raw')}`, withData, '64M');
    await expectQemuImgAnswers(withData);

    const raw = join(dir, 'base.raw');
    await qemuImg('create', '-q', '-f', 'raw', raw, '64M');
    const overRaw = join(dir, 'over-raw.qcow2');
    await qemuImg('create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', raw, overRaw);
    await expectQemuImgAnswers(overRaw);

    const a = join(dir, 'a.qcow2');
    const b = join(dir, 'b.qcow2');
    await qemuImg('create', '-q', '-f', 'qcow2', b, '64M');
    await qemuImg('create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', b, a);
    await qemuImg('rebase', '-u', '-F', 'qcow2', '-b', a, b);
    await expectQemuImgAnswers(a);
  });
});

import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XrayError } from '../../../src-main/shared/errors';
import { QemuImg, qemuImgMessage, type SpawnFunction } from '../../../src-main/core/images';
import { qemuImg as runQemuImg, qemuIo, tempDir } from './helpers';

let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

/** recordingQemuImg runs the real qemu-img and keeps the argument lists it was given. */
function recordingQemuImg(): { qemuImg: QemuImg; calls: string[][] } {
  const calls: string[][] = [];
  const recording = ((command: string, args: readonly string[], options: object) => {
    calls.push([...args]);
    return spawn(command, args, options);
  }) as unknown as SpawnFunction;
  return { qemuImg: new QemuImg({ spawn: recording }), calls };
}

describe('QemuImg', () => {
  it('reads typed metadata, with snapshots', async () => {
    const image = join(dir, 'disk.qcow2');
    await runQemuImg('create', '-q', '-f', 'qcow2', image, '96M');
    await runQemuImg('snapshot', '-c', 'first', image);

    const info = await new QemuImg().info(image);

    expect(info.format).toBe('qcow2');
    expect(info['virtual-size']).toBe(96 * 1024 * 1024);
    expect(info['format-specific']?.data?.corrupt).toBe(false);
    expect(info.snapshots?.map((s) => [s.id, s.name, s['vm-state-size']])).toEqual([['1', 'first', 0]]);
  });

  it('lists the backing chain top first', async () => {
    const base = join(dir, 'base.qcow2');
    const top = join(dir, 'top.qcow2');
    await runQemuImg('create', '-q', '-f', 'qcow2', base, '64M');
    await runQemuImg('create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', top);

    const chain = await new QemuImg().info(top, { backingChain: true });

    expect(chain).toHaveLength(2);
    expect(chain[0]?.['backing-filename']).toBe('base.qcow2');
    expect(chain[1]?.['backing-filename']).toBeUndefined();
  });

  it('passes -U when reading, -f when the format is known, and paths after "--"', async () => {
    await mkdir(join(dir, '-x'));
    const image = join(dir, '-x', 'disk.qcow2');
    const { qemuImg, calls } = recordingQemuImg();

    await qemuImg.create(image, { format: 'qcow2', size: 64 * 1024 * 1024 });
    await qemuImg.info(image, { format: 'qcow2' });

    expect(calls[0]).toEqual(['create', '-q', '-f', 'qcow2', '--', image, String(64 * 1024 * 1024)]);
    expect(calls[1]).toEqual(['info', '--output=json', '-U', '-f', 'qcow2', '--', image]);
  });

  it('reads an image a running process holds open', async () => {
    const image = join(dir, 'busy.qcow2');
    await runQemuImg('create', '-q', '-f', 'qcow2', image, '64M');
    const holder = spawn('qemu-io', ['-f', 'qcow2', image], { stdio: ['pipe', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      await expect(new QemuImg().info(image)).resolves.toMatchObject({ format: 'qcow2' });
    } finally {
      holder.kill();
    }
  });

  it('reports convert progress in growing percents up to 100', async () => {
    const source = join(dir, 'src.qcow2');
    await runQemuImg('create', '-q', '-f', 'qcow2', source, '256M');
    await qemuIo(source, 'write -P 0x1 0 32M');
    const percents: number[] = [];

    await new QemuImg().convert(source, join(dir, 'out.qcow2'), {
      format: 'qcow2',
      sourceFormat: 'qcow2',
      onProgress: (p) => percents.push(p),
    });

    expect(percents.length).toBeGreaterThan(1);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
  });

  it("turns qemu-img's complaint into one sentence that keeps its message", async () => {
    const missing = join(dir, 'missing.qcow2');
    const err = await new QemuImg().info(missing).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(XrayError);
    expect((err as XrayError).code).toBe('qemu');
    expect((err as XrayError).message).toBe(
      `qemu-img could not read the image ${missing}: Could not open '${missing}': Could not open '${missing}': No such file or directory.`,
    );
  });

  it('says how to install qemu-img when the binary is missing', async () => {
    const err = await new QemuImg({ binary: join(dir, 'no-qemu-img') }).info('/etc/hostname').catch((e: unknown) => e);
    expect((err as XrayError).code).toBe('missing-dependency');
    expect((err as XrayError).message).toContain('install QEMU');
  });

  it('check reports leaks and corruption as results', async () => {
    const image = join(dir, 'ok.qcow2');
    await runQemuImg('create', '-q', '-f', 'qcow2', image, '64M');
    const result = await new QemuImg().check(image, { format: 'qcow2' });
    expect(result['check-errors']).toBe(0);
    expect(result.corruptions ?? 0).toBe(0);
  });

  it('compare tells identical from different images', async () => {
    const a = join(dir, 'a.qcow2');
    const b = join(dir, 'b.qcow2');
    await runQemuImg('create', '-q', '-f', 'qcow2', a, '64M');
    await runQemuImg('create', '-q', '-f', 'qcow2', b, '64M');
    const qemuImg = new QemuImg();
    expect(await qemuImg.compare(a, b, { formatA: 'qcow2', formatB: 'qcow2' })).toBe(true);
    await qemuIo(b, 'write -P 0x9 0 4k');
    expect(await qemuImg.compare(a, b, { formatA: 'qcow2', formatB: 'qcow2' })).toBe(false);
  });

  it.each([
    ["qemu-img: Could not open 'x': No such file or directory\n", "Could not open 'x': No such file or directory"],
    ['qemu-img: first.\nqemu-img: second\n', 'first; second'],
    ['', 'it failed without a message'],
  ])('qemuImgMessage(%j)', (stderr, expected) => {
    expect(qemuImgMessage(stderr)).toBe(expected);
  });
});

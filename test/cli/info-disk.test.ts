// `xray info` reads a VM's disk chain and snapshots from the qcow2 files without
// running qemu-img, a disk with a live snapshot taken by QEMU included, and
// hands a disk it is unsure of to qemu-img. A qemu-img first on PATH logs each
// run and then runs the real one.
import { chmod, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readQcow2Chain } from '../../src-main/core/images/qcow2-header';
import type { VmInfo } from '../../src-main/shared/models';
import { isProcessAlive } from '../../src-main/core/vms/runtime';
import { qemuImg, xray } from '../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';
import { waitFor } from '../helpers/wait';

let home: TestHome;
let env: NodeJS.ProcessEnv;
let runsLog: string;

beforeEach(async () => {
  home = await makeTestHome('xray-cli-info-disk-');
  await addFirmwareOnlyVm(home.paths, 'box');
  const shims = join(home.root, 'shims');
  runsLog = join(home.root, 'qemu-img-runs.log');
  await mkdir(shims);
  await writeFile(join(shims, 'qemu-img'), `#!/bin/sh\necho "$1" >> '${runsLog}'\nexec /usr/bin/qemu-img "$@"\n`);
  await chmod(join(shims, 'qemu-img'), 0o755);
  await writeFile(runsLog, '');
  env = { PATH: `${shims}:${process.env.PATH ?? ''}` };
  await xray(home.root, ['config', 'set', 'stop_timeout', '2'], env);
});

afterEach(async () => {
  await xray(home.root, ['stop', 'box', '--force'], env);
  const pid = Number((await readFile(home.paths.lockFile, 'utf8').catch(() => '0')).trim());
  if (pid && isProcessAlive(pid)) process.kill(pid, 'SIGTERM');
  await waitFor('the daemon to exit', () => !pid || !isProcessAlive(pid));
  await home.cleanup();
});

/** infoRuns runs `xray info box --json` and counts the qemu-img info runs it caused. */
async function infoRuns(): Promise<{ info: VmInfo; qemuImgInfoRuns: number }> {
  const before = (await readFile(runsLog, 'utf8')).split('\n').length;
  const out = await xray(home.root, ['info', 'box', '--json'], env);
  expect(out.code, out.stderr).toBe(0);
  const runs = (await readFile(runsLog, 'utf8')).split('\n').slice(before - 1);
  return { info: JSON.parse(out.stdout) as VmInfo, qemuImgInfoRuns: runs.filter((r) => r === 'info').length };
}

/** qemuImgLayers is `qemu-img info --backing-chain` of the VM's disk, as JSON. */
function qemuImgLayers(): Record<string, unknown>[] {
  return JSON.parse(qemuImg(['info', '--output=json', '-U', '--backing-chain', '-f', 'qcow2', home.paths.vm('box').disk]));
}

function chainOf(layers: Record<string, unknown>[]): VmInfo['diskChain'] {
  return layers.map((layer) => ({
    filename: resolve(dirname(home.paths.vm('box').disk), layer.filename as string),
    format: layer.format as string,
    virtualSize: layer['virtual-size'] as number,
    actualSize: layer['actual-size'] as number,
    backingFilename: (layer['backing-filename'] as string | undefined) ?? null,
  }));
}

describe('xray info reads the disk itself', () => {
  it('shows a live snapshot QEMU took with memory as qemu-img would, while running and once stopped', async () => {
    expect((await xray(home.root, ['start', 'box'], env)).code).toBe(0);
    const snap = await xray(home.root, ['snapshot', 'create', 'box', 'with-memory', '--json'], env);
    expect(snap.code, snap.stderr).toBe(0);
    expect(JSON.parse(snap.stdout)).toMatchObject({ hasMemory: true });

    const running = await infoRuns();
    expect(running.qemuImgInfoRuns).toBe(0);
    expect(running.info.diskChain).toEqual(chainOf(qemuImgLayers()));

    expect((await xray(home.root, ['stop', 'box', '--force'], env)).code).toBe(0);
    const layers = qemuImgLayers();
    const stopped = await infoRuns();
    expect(stopped.qemuImgInfoRuns).toBe(0);
    expect(stopped.info.diskChain).toEqual(chainOf(layers));
    const [snapshot] = layers[0]?.snapshots as { name: string; 'vm-state-size': number }[];
    expect(snapshot?.['vm-state-size']).toBeGreaterThan(0);
    expect(stopped.info.snapshots).toMatchObject([{ name: 'with-memory', hasMemory: true, vmStateSize: snapshot?.['vm-state-size'] }]);

    // Every field the reader gives, as qemu-img prints it; QEMU recorded no icount for this snapshot.
    const read = await readQcow2Chain(home.paths.vm('box').disk);
    expect(read?.[0]?.snapshots).toStrictEqual(layers[0]?.snapshots);
    expect(read?.[0]?.snapshots?.[0]).not.toHaveProperty('icount');
  });

  it('asks qemu-img about a disk marked dirty, and shows its answer', async () => {
    const handle = await open(home.paths.vm('box').disk, 'r+');
    await handle.write(Buffer.from([0x01]), 0, 1, 79);
    await handle.close();

    const { info, qemuImgInfoRuns } = await infoRuns();
    expect(qemuImgInfoRuns).toBe(1);
    expect(info.diskChain).toEqual(chainOf(qemuImgLayers()));
  });
});

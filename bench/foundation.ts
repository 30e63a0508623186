// Issue 2 benchmarks: create from small and huge bases against `qemu-img create`
// alone, and `xray list` with 200 VMs against a bare `node` start.
import { join } from 'node:path';
import { createService } from '../src-main/core/bootstrap';
import { HomePaths } from '../src-main/core/paths';
import { median, ms, qemuImg, runNode, samples, tempHome, timeMs, type Row } from './lib';

const RUNS = 15;

export async function benchFoundation(repo: string): Promise<Row[]> {
  const home = await tempHome('xray-bench-foundation-');
  try {
    const paths = new HomePaths(home.root);
    const service = await createService(paths);
    for (const [name, size] of [['small', '1G'], ['huge', '64G']] as const) {
      const image = join(home.root, `${name}.qcow2`);
      qemuImg(['create', '-q', '-f', 'qcow2', image, size]);
      await service.call('base.import', { path: image, name, arch: 'x86_64' });
    }
    // Warm the UEFI vars cache and the page cache once, as a user's second create would.
    await service.catalog.create({ name: 'warm', base: 'small', memoryMb: 256, cpus: 1 });

    // Interleaved, so the growing number of VMs weighs on both base sizes alike;
    // each create is compared with `qemu-img create` of an overlay on the same base.
    const floor = { small: [] as number[], huge: [] as number[] };
    const made = { small: [] as number[], huge: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      for (const base of ['small', 'huge'] as const) {
        floor[base].push(await timeMs(() => qemuImg(['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', paths.baseImage(base), join(home.root, `floor-${base}-${i}.qcow2`)])));
        made[base].push(await timeMs(() => service.catalog.create({ name: `${base}${i}`, base, memoryMb: 256, cpus: 1 })));
      }
    }
    const small = made.small;
    const huge = made.huge;

    for (let i = 0; i < 200 - 2 * RUNS - 1; i++) await service.catalog.create({ name: `fill${i}`, base: 'small', memoryMb: 256, cpus: 1 });
    const env = { XRAY_HOME: home.root };
    const xrayList = await samples(10, () => runNode([join(repo, 'bin', 'xray'), 'list', '--json'], env));
    const bareNode = await samples(10, () => runNode(['-e', ''], env));

    const rows: Row[] = [];
    for (const [label, values, peer] of [['create VM, 1 GiB base', small, floor.small], ['create VM, 64 GiB base', huge, floor.huge]] as const) {
      const fl = median(peer);
      const ratio = median(values) / fl;
      rows.push({ benchmark: label, xray: ms(median(values)), peer: `qemu-img create ${ms(fl)}`, ratio: `${ratio.toFixed(2)}×`, target: '≤ 2×', met: ratio <= 2 });
    }
    const flat = median(huge) / median(small);
    rows.push({ benchmark: 'create: 64 GiB vs 1 GiB base', xray: ms(median(huge)), peer: `1 GiB base ${ms(median(small))}`, ratio: `${flat.toFixed(2)}×`, target: 'flat (≤ 1.2×)', met: flat <= 1.2 });
    const listRatio = median(xrayList) / median(bareNode);
    rows.push({ benchmark: '`xray list` with 200 VMs', xray: ms(median(xrayList)), peer: `node start ${ms(median(bareNode))}`, ratio: `${listRatio.toFixed(2)}×`, target: '≤ 4×', met: listRatio <= 4 });
    return rows;
  } finally {
    await home.cleanup();
  }
}

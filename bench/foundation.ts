// Issue 2 benchmarks: create from small and huge bases against `qemu-img create`
// alone, and `xray list` with 200 VMs against a bare `node` start.
import { join } from 'node:path';
import { createService } from '../src-main/core/bootstrap';
import { HomePaths } from '../src-main/core/paths';
import { median, ms, qemuImg, runNode, samples, tempHome, type Row } from './lib';

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

    const floor = await samples(RUNS, (i) =>
      qemuImg(['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', paths.baseImage('small'), join(home.root, `floor-${i}.qcow2`)]),
    );
    const small = await samples(RUNS, (i) => service.catalog.create({ name: `s${i}`, base: 'small', memoryMb: 256, cpus: 1 }));
    const huge = await samples(RUNS, (i) => service.catalog.create({ name: `h${i}`, base: 'huge', memoryMb: 256, cpus: 1 }));

    for (let i = 0; i < 200 - 2 * RUNS - 1; i++) await service.catalog.create({ name: `fill${i}`, base: 'small', memoryMb: 256, cpus: 1 });
    const env = { XRAY_HOME: home.root };
    const xrayList = await samples(10, () => runNode([join(repo, 'bin', 'xray'), 'list', '--json'], env));
    const bareNode = await samples(10, () => runNode(['-e', ''], env));

    const rows: Row[] = [];
    const fl = median(floor);
    for (const [label, values] of [['create VM, 1 GiB base', small], ['create VM, 64 GiB base', huge]] as const) {
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

// Test helper: a temporary XRAY_HOME with a firmware-only base (an empty qcow2:
// UEFI boots to its boot manager, which is enough for QEMU, QMP and snapshots).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createService } from '../../src-main/core/bootstrap';
import { HomePaths } from '../../src-main/core/paths';
import { qemuImg } from './cli';
import { freePort } from './ports';

export interface TestHome {
  readonly paths: HomePaths;
  readonly root: string;
  cleanup(): Promise<void>;
}

export async function makeTestHome(prefix = 'xray-home-'): Promise<TestHome> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const paths = new HomePaths(root);
  return { paths, root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/**
 * addFirmwareOnlyVm imports an empty 1 GiB base and creates a small VM on it.
 * Its SSH port is one the kernel hands out rather than Xray's first free port
 * from 2222: every test home would pick 2222, and two test files starting
 * VMs at once would then race for it.
 */
export async function addFirmwareOnlyVm(paths: HomePaths, name: string, arch: 'x86_64' | 'aarch64' = 'x86_64'): Promise<void> {
  const service = await createService(paths);
  if (!(await service.bases.list()).some((b) => b.name === `empty-${arch}`)) {
    const image = join(paths.root, `empty-${arch}.qcow2`);
    qemuImg(['create', '-q', '-f', 'qcow2', image, '1G']);
    await service.call('base.import', { path: image, name: `empty-${arch}`, arch });
  }
  await service.call('vm.create', { name, base: `empty-${arch}`, memoryMb: 256, cpus: 1 });
  const sshPort = await freePort();
  await service.catalog.store.update(name, (config) => {
    config.sshPort = sshPort;
  });
}

// A VM whose creation fails half-way leaves nothing behind: its disk is made
// while its UEFI variables are, and either failing removes the VM's folder.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { XrayService } from '../../../src-main/core/service';
import { HomePaths } from '../../../src-main/core/paths';
import { ensureHome } from '../../../src-main/core/store/home';
import { qemuImg } from '../../helpers/cli';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'xray-create-failure-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

it('removes the VM folder when the UEFI variables cannot be made, and the name stays free', async () => {
  const paths = new HomePaths(root);
  await ensureHome(paths);
  let template = join(root, 'no-such-vars.fd');
  const service = new XrayService({
    paths,
    qemuImg: 'qemu-img',
    efiVarsTemplate: async () => template,
    catalogOverrides: { portFree: async () => true, resources: () => ({ totalMemoryMb: 65536, cpuCount: 64 }) },
  });
  qemuImg(['create', '-q', '-f', 'qcow2', join(root, 'b.qcow2'), '64M']);
  await service.call('base.import', { path: join(root, 'b.qcow2'), name: 'b', arch: 'x86_64' });

  await expect(service.call('vm.create', { name: 'web', base: 'b', memoryMb: 256, cpus: 1 })).rejects.toThrow(/no-such-vars/);
  expect(existsSync(paths.vm('web').dir)).toBe(false);
  expect(await service.call('vm.list', {})).toEqual([]);

  template = '/usr/share/OVMF/OVMF_VARS_4M.fd';
  const made = await service.call('vm.create', { name: 'web', base: 'b', memoryMb: 256, cpus: 1 });
  expect(made.name).toBe('web');
  expect(existsSync(paths.vm('web').disk) && existsSync(paths.vm('web').efiVars)).toBe(true);
});

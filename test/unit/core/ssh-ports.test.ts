// SSH port assignment with the host's busy ports under the test's control.
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
  root = await mkdtemp(join(tmpdir(), 'xray-ports-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

it('assigns SSH ports from 2222 upward, skipping ports busy on the host and ports other VMs use', async () => {
  const paths = new HomePaths(root);
  await ensureHome(paths);
  const busy = new Set([2222, 2224]);
  const service = new XrayService({
    paths,
    qemuImg: 'qemu-img',
    efiVarsTemplate: async () => '/usr/share/OVMF/OVMF_VARS_4M.fd',
    catalogOverrides: { portFree: async (port) => !busy.has(port), resources: () => ({ totalMemoryMb: 65536, cpuCount: 64 }) },
  });
  qemuImg(['create', '-q', '-f', 'qcow2', join(root, 'b.qcow2'), '64M']);
  await service.call('base.import', { path: join(root, 'b.qcow2'), name: 'b', arch: 'x86_64' });
  const first = await service.call('vm.create', { name: 'one', base: 'b', memoryMb: 256, cpus: 1, ports: [{ host: 2225, guest: 80 }] });
  const second = await service.call('vm.create', { name: 'two', base: 'b', memoryMb: 256, cpus: 1 });
  expect(first.sshPort).toBe(2223);
  expect(second.sshPort).toBe(2226);
});

it('refuses a VM when no port is free for SSH, and leaves nothing of it behind', async () => {
  const paths = new HomePaths(root);
  await ensureHome(paths);
  const service = new XrayService({
    paths,
    qemuImg: 'qemu-img',
    efiVarsTemplate: async () => '/usr/share/OVMF/OVMF_VARS_4M.fd',
    catalogOverrides: { portFree: async () => false, resources: () => ({ totalMemoryMb: 65536, cpuCount: 64 }) },
  });
  qemuImg(['create', '-q', '-f', 'qcow2', join(root, 'b.qcow2'), '64M']);
  await service.call('base.import', { path: join(root, 'b.qcow2'), name: 'b', arch: 'x86_64' });
  await expect(service.call('vm.create', { name: 'one', base: 'b', memoryMb: 256, cpus: 1 })).rejects.toThrow('No free TCP port is left for SSH on 127.0.0.1');
  expect(existsSync(paths.vm('one').dir)).toBe(false);
  expect(await service.call('vm.list', {})).toEqual([]);
});

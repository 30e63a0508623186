import { afterEach, describe, expect, it } from 'vitest';
import {
  QmpClient,
  listBlockNodes,
  loadSnapshot,
  queryStatus,
  querySnapshots,
  saveSnapshot,
  snapshotNodes,
} from '../../../src-main/core/qmp';
import { hasPattern, VARS_PROBE_OFFSET, writePattern } from './snapshot-helpers';
import { startQemu, type TestVm } from './qemu-vm';

describe('live snapshots on the Mac machine type (aarch64 virt, TCG)', () => {
  let vm: TestVm | undefined;
  let client: QmpClient | undefined;

  afterEach(async () => {
    await client?.close();
    await vm?.kill();
  });

  it('saves and loads a live snapshot covering the disk and the qcow2 AAVMF vars', async () => {
    vm = await startQemu({ arch: 'aarch64' });
    client = await QmpClient.connectWhenReady(vm.qmpSocket, { timeoutMs: 10_000, commandTimeoutMs: 30_000 });
    const nodes = await listBlockNodes(client);
    const plan = snapshotNodes(nodes, 'disk0');
    expect(plan.devices).toHaveLength(2);

    await writePattern(client, 'disk0', 0, 0x11);
    await writePattern(client, 'pflash1', VARS_PROBE_OFFSET, 0x11);
    await saveSnapshot(client, { jobId: 'save-arm', tag: 'arm-1', ...plan });
    const [snapshot] = await querySnapshots(client, 'disk0');
    expect(snapshot).toMatchObject({ name: 'arm-1' });
    expect(snapshot!.vmStateSize).toBeGreaterThan(0);

    await writePattern(client, 'disk0', 0, 0x22);
    await writePattern(client, 'pflash1', VARS_PROBE_OFFSET, 0x22);
    await loadSnapshot(client, { jobId: 'load-arm', tag: 'arm-1', ...plan });
    expect(await hasPattern(vm.disk, 0, 0x11)).toBe(true);
    expect(await hasPattern(vm.vars, VARS_PROBE_OFFSET, 0x11)).toBe(true);
    expect((await queryStatus(client)).running).toBe(true);
  });
});

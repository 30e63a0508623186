import { afterEach, describe, expect, it } from 'vitest';
import { XrayError } from '../../../src-main/shared/errors';
import {
  QmpClient,
  QmpCommandError,
  QmpJobError,
  deleteSnapshot,
  listBlockNodes,
  loadSnapshot,
  queryStatus,
  querySnapshots,
  saveSnapshot,
  snapshotNodes,
} from '../../../src-main/core/qmp';
import { hasPattern, VARS_PROBE_OFFSET, writePattern } from './snapshot-helpers';
import { startQemu, type TestVm } from './qemu-vm';

describe('live snapshots through QMP jobs (x86_64, TCG)', () => {
  let vm: TestVm | undefined;
  let client: QmpClient | undefined;

  afterEach(async () => {
    await client?.close();
    await vm?.kill();
    client = undefined;
    vm = undefined;
  });

  async function boot(varsFormat: 'qcow2' | 'raw'): Promise<QmpClient> {
    vm = await startQemu({ varsFormat });
    client = await QmpClient.connectWhenReady(vm.qmpSocket, { timeoutMs: 10_000, commandTimeoutMs: 30_000 });
    return client;
  }

  it('saves, reverts disk and UEFI vars on load, and deletes a snapshot', async () => {
    const qmp = await boot('qcow2');
    const nodes = await listBlockNodes(qmp);
    expect(nodes.map((n) => [n.device, n.driver, n.readOnly])).toEqual(
      expect.arrayContaining([['disk0', 'qcow2', false], ['pflash0', 'raw', true], ['pflash1', 'qcow2', false]]),
    );
    const plan = snapshotNodes(nodes, 'disk0');
    expect(plan.devices).toHaveLength(2);

    await writePattern(qmp, 'disk0', 0, 0x11);
    await writePattern(qmp, 'pflash1', VARS_PROBE_OFFSET, 0x11);
    // A tag full of quotes and HMP syntax must arrive as the literal name.
    const tag = `it's "v1"; info`;
    await saveSnapshot(qmp, { jobId: 'save-1', tag, ...plan });

    const [snapshot] = await querySnapshots(qmp, 'disk0');
    expect(snapshot?.name).toBe(tag);
    expect(snapshot?.vmStateSize).toBeGreaterThan(0);
    expect(Math.abs(snapshot!.date.getTime() - Date.now())).toBeLessThan(60_000);
    expect((await querySnapshots(qmp, 'pflash1')).map((s) => s.name)).toEqual([tag]);

    await writePattern(qmp, 'disk0', 0, 0x22);
    await writePattern(qmp, 'pflash1', VARS_PROBE_OFFSET, 0x22);
    expect(await hasPattern(vm!.disk, 0, 0x22)).toBe(true);
    expect(await hasPattern(vm!.vars, VARS_PROBE_OFFSET, 0x22)).toBe(true);

    await loadSnapshot(qmp, { jobId: 'load-1', tag, ...plan });
    expect(await hasPattern(vm!.disk, 0, 0x11)).toBe(true);
    expect(await hasPattern(vm!.vars, VARS_PROBE_OFFSET, 0x11)).toBe(true);
    expect((await queryStatus(qmp)).running).toBe(true);

    const duplicate = await saveSnapshot(qmp, { jobId: 'save-1', tag, ...plan }).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(QmpJobError);
    expect((duplicate as QmpJobError).jobError).toContain('already exists');

    await deleteSnapshot(qmp, { jobId: 'delete-1', tag, devices: plan.devices });
    expect(await querySnapshots(qmp, 'disk0')).toEqual([]);
    expect(await querySnapshots(qmp, 'pflash1')).toEqual([]);
    expect(await qmp.execute('query-jobs')).toEqual([]);
  });

  it('reports a job QEMU refuses to start and a job that fails, leaving no job behind', async () => {
    const qmp = await boot('qcow2');
    const plan = snapshotNodes(await listBlockNodes(qmp), 'disk0');
    const started = Date.now();
    const refused = await saveSnapshot(qmp, { jobId: '', tag: 'v1', ...plan }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QmpCommandError);
    expect((refused as QmpCommandError).command).toBe('snapshot-save');
    expect(Date.now() - started).toBeLessThan(5_000);

    const failed = await saveSnapshot(qmp, { jobId: 'save-nowhere', tag: 'v1', vmstateNode: 'no-such-node', devices: plan.devices })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(QmpJobError);
    expect((failed as QmpJobError).jobError).toContain('no-such-node');
    expect(await qmp.execute('query-jobs')).toEqual([]);
    expect(await querySnapshots(qmp, 'disk0')).toEqual([]);
    expect(await queryStatus(qmp)).toEqual({ running: true, status: 'running' });
  });

  it('refuses to load or delete a snapshot that does not exist, leaving the VM running', async () => {
    const qmp = await boot('qcow2');
    const plan = snapshotNodes(await listBlockNodes(qmp), 'disk0');
    const load = await loadSnapshot(qmp, { jobId: 'load-missing', tag: 'never-saved', ...plan }).catch((e: unknown) => e);
    expect(load).toMatchObject({ code: 'not-found' });
    expect((load as XrayError).message).toContain('never-saved');
    const remove = await deleteSnapshot(qmp, { jobId: 'delete-missing', tag: 'never-saved', devices: plan.devices }).catch((e: unknown) => e);
    expect(remove).toMatchObject({ code: 'not-found' });
    expect(await queryStatus(qmp)).toEqual({ running: true, status: 'running' });
  });

  it('cannot snapshot a VM whose writable UEFI vars drive is raw, which is why vars are qcow2', async () => {
    const qmp = await boot('raw');
    const nodes = await listBlockNodes(qmp);
    const vars = nodes.find((n) => n.device === 'pflash1');
    expect(vars).toMatchObject({ driver: 'raw', readOnly: false });

    const refused = (() => {
      try {
        return snapshotNodes(nodes, 'disk0');
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(XrayError);
    expect((refused as XrayError).code).toBe('unsupported');
    expect((refused as XrayError).message).toContain('pflash1');

    const disk = nodes.find((n) => n.device === 'disk0')!;
    const err = await saveSnapshot(qmp, {
      jobId: 'save-raw',
      tag: 'v1',
      vmstateNode: disk.nodeName,
      devices: [disk.nodeName, vars!.nodeName],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpJobError);
    expect((err as QmpJobError).jobType).toBe('snapshot-save');
    expect((err as QmpJobError).jobError).toMatch(/does not support snapshots|cannot.*snapshot/i);
    expect(await querySnapshots(qmp, 'disk0')).toEqual([]);
    expect(await qmp.execute('query-jobs')).toEqual([]);
  });
});

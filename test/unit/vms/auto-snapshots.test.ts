import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { beforeCommand, beforeHook } from '../../../src-main/core/hooks/risky';
import { HomePaths } from '../../../src-main/core/paths';
import { SETTINGS_DEFAULTS } from '../../../src-main/core/store/settings';
import { VM_CONFIG_DEFAULTS, VmStore } from '../../../src-main/core/store/vm-config';
import { AutoSnapshots } from '../../../src-main/core/vms/auto-snapshots';
import type { GlobalSettings, SnapshotInfo } from '../../../src-main/shared/models';

// The disk's snapshot table is kept in memory here (qemu-img and QMP are exercised by test/cli/auto-snapshots.test.ts);
// vm.toml is the real store.
let root: string;
let store: VmStore;
let settings: GlobalSettings;
let disk: SnapshotInfo[];
let clock: number;
let auto: AutoSnapshots;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'xray-auto-snap-'));
  store = new VmStore(new HomePaths(root));
  await store.write('web', {
    base: 'debian', memoryMb: VM_CONFIG_DEFAULTS.memoryMb, cpus: 1, ports: [], sshPort: 2222, sshUser: 'debian',
    firewallConfigured: false, firstBootCompleted: false, firewall: {}, plugins: {}, snapshots: {}, autoSnapshots: null, cloudInit: false, extra: {},
  });
  settings = { ...SETTINGS_DEFAULTS, autoSnapshots: true, autoSnapshotsKeep: 2 };
  disk = [];
  clock = Date.parse('2026-01-01T00:00:00Z');
  auto = new AutoSnapshots({
    vms: store,
    settings: { read: async () => settings },
    list: async () => {
      const config = await store.read('web');
      return disk.map((s) => ({ ...s, auto: config.snapshots[s.name]?.auto === true }));
    },
    create: async (_vm, name, description) => {
      const snap = { name, date: new Date((clock += 1000)).toISOString(), vmStateSize: 0, hasMemory: false, description };
      disk.push(snap);
      return snap;
    },
    remove: async (_vm, name) => {
      disk = disk.filter((s) => s.name !== name);
    },
  });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('automatic snapshots', () => {
  it('takes none while they are off, and the VM\'s own setting wins over config.toml', async () => {
    settings = { ...settings, autoSnapshots: false };
    expect(await auto.take('web', { kind: 'first-boot' })).toBeNull();
    expect(disk).toEqual([]);
    await store.update('web', (cfg) => void (cfg.autoSnapshots = true));
    expect(await auto.settingsOf('web')).toEqual({ enabled: true, fromDefault: false, keep: 2 });
    expect((await auto.take('web', { kind: 'first-boot' }))?.name).toBe('auto-first-boot');
    settings = { ...settings, autoSnapshots: true };
    await store.update('web', (cfg) => void (cfg.autoSnapshots = false));
    expect(await auto.take('web', { kind: 'first-boot' })).toBeNull();
    expect(disk.map((s) => s.name)).toEqual(['auto-first-boot']);
  });

  it('names each after its moment, says why in vm.toml, and marks it automatic', async () => {
    const taken = await auto.take('web', beforeHook({ type: 'boot', script: '50-upgrade.sh', source: 'vm' }));
    expect(taken).toMatchObject({ name: 'auto-before-50-upgrade.sh', auto: true });
    const entry = (await store.read('web')).snapshots['auto-before-50-upgrade.sh'];
    expect(entry).toEqual({ description: 'Taken automatically before the boot hook "50-upgrade.sh" (vm), which is marked risky.', auto: true });
    expect((await auto.take('web', beforeCommand('agent', 'run all')))?.name).toBe('auto-before-agent-run-all');
  });

  it('numbers a second snapshot for the same moment instead of failing on the name', async () => {
    settings = { ...settings, autoSnapshotsKeep: 10 };
    const moment = beforeHook({ type: 'boot', script: 'risky', source: 'plugin' });
    const names = [];
    for (let i = 0; i < 3; i++) names.push((await auto.take('web', moment))?.name);
    expect(names).toEqual(['auto-before-risky', 'auto-before-risky-2', 'auto-before-risky-3']);
  });

  it('keeps the newest automatic snapshots and never deletes one a person took', async () => {
    disk.push({ name: 'mine', date: '2025-01-01T00:00:00Z', vmStateSize: 0, hasMemory: false, description: null });
    for (let i = 0; i < 4; i++) await auto.take('web', beforeHook({ type: 'boot', script: `s${i}`, source: 'vm' }));
    expect(disk.map((s) => s.name)).toEqual(['mine', 'auto-before-s2', 'auto-before-s3']);
  });

  it('takes one VM\'s snapshots one at a time, so two at once get different names', async () => {
    settings = { ...settings, autoSnapshotsKeep: 10 };
    const both = await Promise.all([auto.take('web', { kind: 'first-boot' }), auto.take('web', { kind: 'first-boot' })]);
    expect(both.map((s) => s?.name)).toEqual(['auto-first-boot', 'auto-first-boot-2']);
  });
});

// What the supervisor does with a VM that runs: live snapshots over its QMP,
// adoption by a new supervisor, and letting go. QEMU and the guest are faked.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { refusal } from '../../helpers/refusal';
import { waitFor } from '../../helpers/wait';
import { supervised, type Harness } from './harness';

let h: Harness;

afterEach(async () => {
  await h.close();
});

describe('live snapshots', () => {
  it('takes one with memory and keeps its description', async () => {
    h = await supervised();
    await h.service.call('vm.start', { name: 'web' });
    const snap = await h.service.call('snapshot.create', { vm: 'web', name: 'one', description: 'before the upgrade' });
    expect(snap).toMatchObject({ name: 'one', hasMemory: true, description: 'before the upgrade' });
  });

  it('announces its progress: running, then done', async () => {
    h = await supervised();
    await h.service.call('vm.start', { name: 'web' });
    await h.service.call('snapshot.create', { vm: 'web', name: 'one' });
    expect(h.events.filter((e) => e.type === 'snapshot.progress').map((e) => e.type === 'snapshot.progress' && e.status)).toEqual(['running', 'done']);
  });

  it('refuses a second one of the same name', async () => {
    h = await supervised();
    await h.service.call('vm.start', { name: 'web' });
    await h.service.call('snapshot.create', { vm: 'web', name: 'one' });
    expect((await refusal(h.service.call('snapshot.create', { vm: 'web', name: 'one' }))).code).toBe('already-exists');
  });

  it('refuses to revert to one that does not exist', async () => {
    h = await supervised();
    await h.service.call('vm.start', { name: 'web' });
    expect((await refusal(h.service.call('snapshot.revert', { vm: 'web', name: 'nope' }))).message).toMatch(/has no snapshot "nope"/);
  });

  it('deletes one, with its description', async () => {
    h = await supervised();
    await h.service.call('vm.start', { name: 'web' });
    await h.service.call('snapshot.create', { vm: 'web', name: 'one', description: 'x' });
    await h.service.call('snapshot.delete', { vm: 'web', name: 'one' });
    expect(await h.service.call('snapshot.list', { vm: 'web' })).toEqual([]);
    expect((await h.service.catalog.store.read('web')).snapshots).toEqual({});
  });

  it('resumes a stopped VM from one: QEMU starts paused, loads it and continues', async () => {
    h = await supervised();
    await h.service.call('vm.start', { name: 'web' });
    await h.service.call('snapshot.create', { vm: 'web', name: 'one' });
    await h.service.call('vm.stop', { name: 'web', force: true });
    expect(await h.service.call('vm.start', { name: 'web', fromSnapshot: 'one' })).toMatchObject({ state: 'booting' });
    const qemu = h.qemu.latest('web');
    expect(qemu.request?.argv).toContain('-S');
    expect(qemu.qmp.commands.slice(-2)).toEqual(['job-dismiss', 'cont']);
  });

  it('stops the QEMU it started when the snapshot to resume from is missing', async () => {
    h = await supervised();
    expect((await refusal(h.service.call('vm.start', { name: 'web', fromSnapshot: 'missing' }))).code).toBe('not-found');
    expect(h.qemu.latest('web').killed).toBe(true);
    expect(h.states('web')).toEqual(['starting', 'stopping', 'stopped']);
  });
});

describe('adoption', () => {
  it('takes on a live QEMU an earlier supervisor left, booting', async () => {
    h = await supervised({ isQemuFor: async () => true });
    await writeFile(h.home.paths.vm('web').pid, `${process.pid}\n`);
    expect(await h.supervisor.adoptRunning()).toEqual(['web']);
    expect((await h.service.call('vm.list', {}))[0]).toMatchObject({ state: 'booting', pid: process.pid });
  });

  it('watches an adopted guest until it lets Xray in, without its start hooks', async () => {
    h = await supervised({ isQemuFor: async () => true });
    await writeFile(h.home.paths.vm('web').pid, `${process.pid}\n`);
    await h.supervisor.adoptRunning();
    h.guests.letIn('web');
    await waitFor('the VM to be ready', () => h.states('web').includes('ready'));
    expect(h.hooksRan).toEqual([]);
  });

  it('removes the runtime files of a pid that is not the VM\'s QEMU, and leaves that process alone', async () => {
    h = await supervised({ isQemuFor: async () => false });
    await writeFile(h.home.paths.vm('web').pid, `${process.pid}\n`);
    expect(await h.supervisor.adoptRunning()).toEqual([]);
    expect(existsSync(h.home.paths.vm('web').pid)).toBe(false);
    expect(h.qemu.processes).toEqual([]);
  });
});

describe('letting go', () => {
  it('leaves QEMU running and closes its QMP', async () => {
    h = await supervised();
    await h.service.call('vm.start', { name: 'web' });
    const qemu = h.qemu.latest('web');
    await h.supervisor.detach();
    expect([qemu.running, qemu.released]).toEqual([true, true]);
  });

  it('reports nothing about a QEMU it let go of', async () => {
    h = await supervised();
    await h.service.call('vm.start', { name: 'web' });
    await h.supervisor.detach();
    const before = h.events.length;
    h.qemu.latest('web').exit({ code: null, signal: 'SIGKILL' });
    await h.qemu.latest('web').exited;
    expect(h.events.length).toBe(before);
  });
});

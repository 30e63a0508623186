// The supervisor on real QEMU under TCG: start, watch, snapshot, stop, crash, adopt.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import { ControlClient } from '../../../src-main/core/control/client';
import { hostSupervisor, type SupervisorHost } from '../../../src-main/core/supervisor/host';
import { isProcessAlive } from '../../../src-main/core/vms/runtime';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../../helpers/home';

let home: TestHome;
let hosts: SupervisorHost[] = [];

beforeEach(async () => {
  home = await makeTestHome();
  await addFirmwareOnlyVm(home.paths, 'fw');
  await writeFile(home.paths.configFile, 'stop_timeout = 2\n');
});

afterEach(async () => {
  for (const host of hosts) await host.close({ stopVms: true }).catch(() => undefined);
  hosts = [];
  for (const pid of qemuPidsFor(home.root)) process.kill(pid, 'SIGKILL');
  await home.cleanup();
});

async function host(): Promise<SupervisorHost> {
  const h = await hostSupervisor(home.paths, { login: () => new Promise(() => undefined) });
  hosts.push(h);
  return h;
}

/** qemuPidsFor lists QEMU processes whose command line mentions this home. */
function qemuPidsFor(root: string): number[] {
  const out = spawnSync('pgrep', ['-f', `qemu-system.*${root}`], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map(Number);
}

function recordEvents(h: SupervisorHost): XrayEvent[] {
  const events: XrayEvent[] = [];
  h.service.subscribe((e) => events.push(e));
  return events;
}

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('supervisor', () => {
  it('starts a VM in its own process group, reports starting → booting, and answers QMP', async () => {
    const h = await host();
    const events = recordEvents(h);
    const vm = await h.service.call('vm.start', { name: 'fw' });
    expect(vm.state).toBe('booting');
    expect(vm.accelerator).toBe('tcg');
    const pid = Number((await readFile(home.paths.vm('fw').pid, 'utf8')).trim());
    expect(pid).toBe(vm.pid);
    const pgid = spawnSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
    expect(Number(pgid)).toBe(pid);
    expect(events.filter((e) => e.type === 'vm.state').map((e) => (e as { state: string }).state)).toEqual(['starting', 'booting']);
    const machine = (h.supervisor as unknown as { machines: Map<string, { qmp: { execute: (c: string) => Promise<{ status: string }> } }> }).machines.get('fw')!;
    expect((await machine.qmp.execute('query-status')).status).toBe('running');
  });

  it('stops gracefully (power button, then quit) and cleans runtime files', async () => {
    const h = await host();
    await h.service.call('vm.start', { name: 'fw' });
    const pid = Number((await readFile(home.paths.vm('fw').pid, 'utf8')).trim());
    const stopped = await h.service.call('vm.stop', { name: 'fw' });
    expect(stopped.state).toBe('stopped');
    expect(isProcessAlive(pid)).toBe(false);
    await expect(readFile(home.paths.vm('fw').pid)).rejects.toThrow();
    await expect(readFile(home.paths.vm('fw').qmpSocket)).rejects.toThrow();
  });

  it('force-stops at once, without waiting for the guest', async () => {
    await writeFile(home.paths.configFile, 'stop_timeout = 120\n');
    const h = await host();
    await h.service.call('vm.start', { name: 'fw' });
    const started = Date.now();
    expect((await h.service.call('vm.stop', { name: 'fw', force: true })).state).toBe('stopped');
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('reports a crash with QEMU\'s exit signal after kill -9, and starts again after', async () => {
    const h = await host();
    const events = recordEvents(h);
    const vm = await h.service.call('vm.start', { name: 'fw' });
    process.kill(vm.pid!, 'SIGKILL');
    await until(() => events.some((e) => e.type === 'vm.state' && e.state === 'crashed'));
    const listed = (await h.service.call('vm.list', {})).find((v) => v.name === 'fw')!;
    expect(listed.state).toBe('crashed');
    expect(listed.crash).toMatchObject({ signal: 'SIGKILL' });
    expect((await h.service.call('vm.start', { name: 'fw' })).state).toBe('booting');
  });

  it('takes, lists, reverts and deletes live snapshots with memory', async () => {
    const h = await host();
    await h.service.call('vm.start', { name: 'fw' });
    const snap = await h.service.call('snapshot.create', { vm: 'fw', name: 'live1', description: 'at boot manager' });
    expect(snap).toMatchObject({ name: 'live1', hasMemory: true, description: 'at boot manager' });
    expect(snap.vmStateSize).toBeGreaterThan(0);
    await expect(h.service.call('snapshot.create', { vm: 'fw', name: 'live1' })).rejects.toThrow(/already has a snapshot/);
    await h.service.call('snapshot.revert', { vm: 'fw', name: 'live1' });
    expect((await h.service.call('vm.list', {}))[0]!.state).toBe('booting');
    await expect(h.service.call('snapshot.revert', { vm: 'fw', name: 'nope' })).rejects.toThrow(/no snapshot "nope"/);
    await h.service.call('snapshot.delete', { vm: 'fw', name: 'live1' });
    expect(await h.service.call('snapshot.list', { vm: 'fw' })).toEqual([]);
  });

  it('resumes a stopped VM from a memory snapshot', async () => {
    const h = await host();
    await h.service.call('vm.start', { name: 'fw' });
    await h.service.call('snapshot.create', { vm: 'fw', name: 'resume-me' });
    await h.service.call('vm.stop', { name: 'fw', force: true });
    const offline = await h.service.call('snapshot.list', { vm: 'fw' });
    expect(offline.map((s) => [s.name, s.hasMemory])).toEqual([['resume-me', true]]);
    const vm = await h.service.call('vm.start', { name: 'fw', fromSnapshot: 'resume-me' });
    expect(vm.state).toBe('booting');
    await expect(
      (async () => {
        await h.service.call('vm.stop', { name: 'fw', force: true });
        return h.service.call('vm.start', { name: 'fw', fromSnapshot: 'missing' });
      })(),
    ).rejects.toThrow(/no snapshot "missing"/);
    expect(qemuPidsFor(home.root)).toEqual([]);
  });

  it('lets a restarted supervisor adopt a running VM, and clears stale runtime files', async () => {
    await addFirmwareOnlyVm(home.paths, 'stale');
    const first = await host();
    const vm = await first.service.call('vm.start', { name: 'fw' });
    await first.close();
    hosts = [];
    await writeFile(home.paths.vm('stale').pid, `${process.pid}\n`);
    const second = await host();
    const adopted = (await second.service.call('vm.list', {})).find((v) => v.name === 'fw')!;
    expect(adopted).toMatchObject({ state: 'booting', pid: vm.pid });
    expect(isProcessAlive(process.pid)).toBe(true);
    await expect(readFile(home.paths.vm('stale').pid)).rejects.toThrow();
    await second.service.call('vm.stop', { name: 'fw', force: true });
    expect(isProcessAlive(vm.pid!)).toBe(false);
  });

  it('gives two clients starting one VM at once the same QEMU, and a stop during start wins cleanly', async () => {
    const h = await host();
    const a = await ControlClient.connect(home.paths.controlSocket);
    const b = await ControlClient.connect(home.paths.controlSocket);
    try {
      const [x, y] = await Promise.all([a.call('vm.start', { name: 'fw' }), b.call('vm.start', { name: 'fw' })]);
      expect(x.pid).toBe(y.pid);
      expect(qemuPidsFor(home.root)).toHaveLength(1);
      await a.call('vm.stop', { name: 'fw', force: true });
      const [, stopped] = await Promise.all([a.call('vm.start', { name: 'fw' }), b.call('vm.stop', { name: 'fw', force: true })]);
      expect(stopped.state).toBe('stopped');
      expect(qemuPidsFor(home.root)).toEqual([]);
    } finally {
      a.close();
      b.close();
    }
    expect(h.control.subscriberCount).toBe(0);
  });

  it('refuses a second supervisor for the same home', async () => {
    await host();
    await expect(hostSupervisor(home.paths)).rejects.toThrow(/already supervises/);
  });

  it('refuses to start when a forwarded port is busy, naming the port', async () => {
    const h = await host();
    const config = await h.service.catalog.store.read('fw');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(config.sshPort, '127.0.0.1', () => r()));
    try {
      await expect(h.service.call('vm.start', { name: 'fw' })).rejects.toThrow(new RegExp(`Port ${config.sshPort} .* is busy`));
      expect(qemuPidsFor(home.root)).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('does not adopt a live pid whose QMP socket is gone, and leaves that process alone', async () => {
    const first = await host();
    const vm = await first.service.call('vm.start', { name: 'fw' });
    await first.close();
    hosts = [];
    const { rm } = await import('node:fs/promises');
    await rm(home.paths.vm('fw').qmpSocket);
    const second = await host();
    expect((await second.service.call('vm.list', {}))[0]!.state).not.toBe('booting');
    expect(isProcessAlive(vm.pid!)).toBe(true);
    process.kill(vm.pid!, 'SIGKILL');
  });
});

// The supervisor on real QEMU under TCG: start, stop, crash, snapshot, adopt.
// The firmware-only guest never lets Xray log in and ignores the ACPI power
// button, so a graceful stop ends in a kill. Every event is checked against
// the contract.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import { contractProblem } from '../../../src-main/shared/schemas';
import { ControlClient } from '../../../src-main/core/control/client';
import type { QmpChannel } from '../../../src-main/core/qmp';
import { hostSupervisor, type SupervisorHost } from '../../../src-main/core/supervisor/host';
import { isProcessAlive } from '../../../src-main/core/vms/runtime';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../../helpers/home';
import { refusal } from '../../helpers/refusal';
import { waitFor } from '../../helpers/wait';

let home: TestHome;
let hosts: SupervisorHost[] = [];
let events: XrayEvent[] = [];

beforeEach(async () => {
  home = await makeTestHome();
  await addFirmwareOnlyVm(home.paths, 'fw');
  await writeFile(home.paths.configFile, 'stop_timeout = 2\n');
  events = [];
});

afterEach(async () => {
  // Forced: a graceful stop of this guest waits out stop_timeout, and the stop path has tests of its own.
  for (const host of hosts) {
    await host.supervisor.stopAll(true);
    await host.close().catch(() => undefined);
  }
  hosts = [];
  for (const pid of qemuPidsFor(home.root)) process.kill(pid, 'SIGKILL');
  await home.cleanup();
  expect(events.map((event) => contractProblem({ event })).filter(Boolean)).toEqual([]);
});

async function host(): Promise<SupervisorHost> {
  const h = await hostSupervisor(home.paths, { login: () => new Promise(() => undefined) });
  h.service.subscribe((e) => events.push(e));
  hosts.push(h);
  return h;
}

/** qemuPidsFor lists QEMU processes whose command line mentions this home. */
function qemuPidsFor(root: string): number[] {
  const out = spawnSync('pgrep', ['-f', `qemu-system.*${root}`], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map(Number);
}

function states(vm = 'fw'): string[] {
  return events.flatMap((e) => (e.type === 'vm.state' && e.vm === vm ? [e.state] : []));
}

function monitorOf(h: SupervisorHost, vm: string): QmpChannel {
  return (h.supervisor as unknown as { machines: Map<string, { qmp: QmpChannel }> }).machines.get(vm)!.qmp;
}

describe('starting', () => {
  it('answers booting under TCG with the pid QEMU wrote', async () => {
    const vm = await (await host()).service.call('vm.start', { name: 'fw' });
    expect(vm).toMatchObject({ state: 'booting', accelerator: 'tcg' });
    expect(Number((await readFile(home.paths.vm('fw').pid, 'utf8')).trim())).toBe(vm.pid);
  });

  it('runs QEMU in its own process group, so a Ctrl-C where it started leaves it running', async () => {
    const vm = await (await host()).service.call('vm.start', { name: 'fw' });
    expect(Number(spawnSync('ps', ['-o', 'pgid=', '-p', String(vm.pid)], { encoding: 'utf8' }).stdout.trim())).toBe(vm.pid);
  });

  it('reports starting, then booting', async () => {
    await (await host()).service.call('vm.start', { name: 'fw' });
    expect(states()).toEqual(['starting', 'booting']);
  });

  it('leaves a QEMU that answers QMP with its guest running', async () => {
    const h = await host();
    await h.service.call('vm.start', { name: 'fw' });
    expect(await monitorOf(h, 'fw').execute<{ status: string }>('query-status')).toMatchObject({ status: 'running' });
  });

  it('refuses when a forwarded port is busy, naming the port, and starts no QEMU', async () => {
    const h = await host();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const busy = (blocker.address() as AddressInfo).port;
    await h.service.catalog.store.update('fw', (cfg) => {
      cfg.ports = [{ host: busy, guest: 80 }];
    });
    try {
      expect((await refusal(h.service.call('vm.start', { name: 'fw' }))).message).toMatch(new RegExp(`^Port ${busy} on 127\\.0\\.0\\.1, which VM "fw" forwards, is busy`));
      expect(qemuPidsFor(home.root)).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('moves a VM whose SSH port another program holds to a free one, keeps it, and says so', async () => {
    const h = await host();
    const { sshPort } = await h.service.catalog.store.read('fw');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(sshPort, '127.0.0.1', () => r()));
    try {
      const vm = await h.service.call('vm.start', { name: 'fw' });
      expect(vm.state).toBe('booting');
      expect(vm.sshPort).not.toBe(sshPort);
      expect((await h.service.catalog.store.read('fw')).sshPort).toBe(vm.sshPort);
      expect(events).toContainEqual(expect.objectContaining({ type: 'log', level: 'warn', source: 'start', message: expect.stringContaining(`SSH port ${sshPort} is busy`) }));
    } finally {
      blocker.close();
    }
  });

  it('gives two clients starting one VM at once the same QEMU', async () => {
    await host();
    const [a, b] = await Promise.all([1, 2].map(() => ControlClient.connect(home.paths.controlSocket)));
    try {
      const [x, y] = await Promise.all([a!.call('vm.start', { name: 'fw' }), b!.call('vm.start', { name: 'fw' })]);
      expect(x.pid).toBe(y.pid);
      expect(qemuPidsFor(home.root)).toHaveLength(1);
    } finally {
      a!.close();
      b!.close();
    }
  });
});

describe('stopping', () => {
  it('kills a guest that ignores the power button once stop_timeout has passed, and says so', async () => {
    const h = await host();
    const vm = await h.service.call('vm.start', { name: 'fw' });
    const started = Date.now();
    expect(await h.service.call('vm.stop', { name: 'fw' })).toMatchObject({ state: 'stopped', stoppedBy: 'kill' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(isProcessAlive(vm.pid!)).toBe(false);
  });

  it('announces the stop with how it ended', async () => {
    const h = await host();
    await h.service.call('vm.start', { name: 'fw' });
    await h.service.call('vm.stop', { name: 'fw' });
    expect(events.filter((e) => e.type === 'vm.state').at(-1)).toEqual({ type: 'vm.state', vm: 'fw', state: 'stopped', previous: 'stopping', stoppedBy: 'kill' });
  });

  it('removes the pid file and the QMP socket', async () => {
    const h = await host();
    await h.service.call('vm.start', { name: 'fw' });
    await h.service.call('vm.stop', { name: 'fw', force: true });
    expect([existsSync(home.paths.vm('fw').pid), existsSync(home.paths.vm('fw').qmpSocket)]).toEqual([false, false]);
  });

  it('force-stops at once, without waiting for the power button', async () => {
    await writeFile(home.paths.configFile, 'stop_timeout = 120\n');
    const h = await host();
    await h.service.call('vm.start', { name: 'fw' });
    const started = Date.now();
    expect(await h.service.call('vm.stop', { name: 'fw', force: true })).toMatchObject({ state: 'stopped', stoppedBy: 'kill' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('runs a stop sent during a start after it, leaving no QEMU', async () => {
    await host();
    const [a, b] = await Promise.all([1, 2].map(() => ControlClient.connect(home.paths.controlSocket)));
    try {
      const [, stopped] = await Promise.all([a!.call('vm.start', { name: 'fw' }), b!.call('vm.stop', { name: 'fw', force: true })]);
      expect(stopped.state).toBe('stopped');
      expect(qemuPidsFor(home.root)).toEqual([]);
    } finally {
      a!.close();
      b!.close();
    }
  });
});

describe('a crash', () => {
  it('is reported with QEMU\'s exit signal after kill -9', async () => {
    const h = await host();
    const vm = await h.service.call('vm.start', { name: 'fw' });
    process.kill(vm.pid!, 'SIGKILL');
    await waitFor('the crash', () => states().includes('crashed'));
    expect((await h.service.call('vm.list', {}))[0]).toMatchObject({ state: 'crashed', crash: { signal: 'SIGKILL' } });
  });

  it('leaves the VM free to start again', async () => {
    const h = await host();
    process.kill((await h.service.call('vm.start', { name: 'fw' })).pid!, 'SIGKILL');
    await waitFor('the crash', () => states().includes('crashed'));
    expect((await h.service.call('vm.start', { name: 'fw' })).state).toBe('booting');
  });
});

describe('live snapshots', () => {
  it('takes one with memory', async () => {
    const h = await host();
    await h.service.call('vm.start', { name: 'fw' });
    const snap = await h.service.call('snapshot.create', { vm: 'fw', name: 'live1', description: 'at boot manager' });
    expect(snap).toMatchObject({ name: 'live1', hasMemory: true, description: 'at boot manager', vmStateSize: expect.any(Number) });
    expect(snap.vmStateSize).toBeGreaterThan(0);
  });

  it('reverts to one and keeps the VM running', async () => {
    const h = await host();
    await h.service.call('vm.start', { name: 'fw' });
    await h.service.call('snapshot.create', { vm: 'fw', name: 'live1' });
    await h.service.call('snapshot.revert', { vm: 'fw', name: 'live1' });
    expect((await h.service.call('vm.list', {}))[0]!.state).toBe('booting');
  });

  it('deletes one', async () => {
    const h = await host();
    await h.service.call('vm.start', { name: 'fw' });
    await h.service.call('snapshot.create', { vm: 'fw', name: 'live1' });
    await h.service.call('snapshot.delete', { vm: 'fw', name: 'live1' });
    expect(await h.service.call('snapshot.list', { vm: 'fw' })).toEqual([]);
  });

  it('resumes a stopped VM from one', async () => {
    const h = await host();
    await h.service.call('vm.start', { name: 'fw' });
    await h.service.call('snapshot.create', { vm: 'fw', name: 'resume-me' });
    await h.service.call('vm.stop', { name: 'fw', force: true });
    expect((await h.service.call('snapshot.list', { vm: 'fw' })).map((s) => [s.name, s.hasMemory])).toEqual([['resume-me', true]]);
    expect((await h.service.call('vm.start', { name: 'fw', fromSnapshot: 'resume-me' })).state).toBe('booting');
  });

  it('refuses to resume from one that does not exist, leaving no QEMU', async () => {
    const h = await host();
    expect((await refusal(h.service.call('vm.start', { name: 'fw', fromSnapshot: 'missing' }))).message).toMatch(/no snapshot "missing"/);
    expect(qemuPidsFor(home.root)).toEqual([]);
  });
});

describe('another supervisor', () => {
  it('adopts a VM the first one left running', async () => {
    const first = await host();
    const vm = await first.service.call('vm.start', { name: 'fw' });
    await first.close();
    hosts = [];
    const second = await host();
    expect((await second.service.call('vm.list', {}))[0]).toMatchObject({ state: 'booting', pid: vm.pid });
  });

  it('clears a stale pid file whose process is not QEMU, and leaves that process alone', async () => {
    await writeFile(home.paths.vm('fw').pid, `${process.pid}\n`);
    await host();
    expect(existsSync(home.paths.vm('fw').pid)).toBe(false);
    expect(isProcessAlive(process.pid)).toBe(true);
  });

  it('does not adopt a live QEMU whose QMP socket is gone, and leaves it alone', async () => {
    const first = await host();
    const vm = await first.service.call('vm.start', { name: 'fw' });
    await first.close();
    hosts = [];
    await rm(home.paths.vm('fw').qmpSocket);
    const second = await host();
    expect((await second.service.call('vm.list', {}))[0]!.state).not.toBe('booting');
    expect(isProcessAlive(vm.pid!)).toBe(true);
  });

  it('closing with its VMs stopped leaves their stop in the timeline file', async () => {
    await writeFile(home.paths.configFile, 'stop_timeout = 1\n');
    const first = await host();
    await first.service.call('vm.start', { name: 'fw' });
    await first.close({ stopVms: true });
    hosts = [];
    const lines = (await readFile(home.paths.vm('fw').journal, 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.at(-1)).toMatchObject({ kind: 'lifecycle', event: 'stopped', detail: 'killed' });
  });

  it('is refused while the first one holds the home', async () => {
    await host();
    expect((await refusal(hostSupervisor(home.paths))).code).toBe('busy');
  });
});

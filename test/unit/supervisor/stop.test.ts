// Stopping a VM, stage by stage, with QEMU and the guest faked and time faked
// where the waits are the subject. The kill path on real QEMU (firmware that
// ignores the power button) is in test/integration/supervisor.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '../../helpers/wait';
import type { FakeQemuProcess } from './fakes';
import { supervised, type Harness } from './harness';

let h: Harness;

beforeEach(async () => {
  h = await supervised();
});

afterEach(async () => {
  vi.useRealTimers();
  await h.close();
});

/** running starts "web" and, when `ready`, lets Xray log in to it. */
async function running(opts: { ready: boolean }): Promise<FakeQemuProcess> {
  await h.service.call('vm.start', { name: 'web' });
  if (opts.ready) {
    h.guests.letIn('web');
    await waitFor('the VM to be ready', () => h.states('web').includes('ready'));
  }
  return h.qemu.latest('web');
}

/** ignoring makes the next QEMU's guest ignore the power button, as the stock Debian cloud guest did under TCG. */
function ignoring(sudo: 'powers-off' | 'refuses' = 'powers-off'): void {
  h.qemu.guest = { answersPowerButton: false, sudo, quitExits: true };
}

/** stopping sends vm.stop with time faked and resolves once the power button was pressed, with the stop under way. */
async function stopping(): Promise<{ stop: ReturnType<Harness['service']['call']> }> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  const stop = h.service.call('vm.stop', { name: 'web' });
  await h.qemu.latest('web').qmp.seen('system_powerdown');
  await vi.advanceTimersByTimeAsync(0);
  return { stop };
}

describe('a guest that answers the power button', () => {
  it('stops by it, and nothing harder is tried', async () => {
    const qemu = await running({ ready: true });
    expect(await h.service.call('vm.stop', { name: 'web' })).toMatchObject({ state: 'stopped', stoppedBy: 'power-button', pid: null });
    expect(qemu.qmp.commands).toEqual(['system_powerdown']);
    expect(h.guests.commands).toEqual([]);
  });

  it('announces stopped with how it stopped', async () => {
    await running({ ready: false });
    await h.service.call('vm.stop', { name: 'web' });
    expect(h.events.filter((e) => e.type === 'vm.state').at(-1)).toEqual({ type: 'vm.state', vm: 'web', state: 'stopped', previous: 'stopping', stoppedBy: 'power-button' });
  });
});

describe('a ready guest that ignores the power button', () => {
  it('gets stop_timeout seconds for it, no less', async () => {
    ignoring();
    const qemu = await running({ ready: true });
    await h.setStopTimeout(10);
    await stopping();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(h.guests.commands).toEqual([]);
    expect(qemu.running).toBe(true);
  });

  it('is shut down over SSH once stop_timeout has passed', async () => {
    ignoring();
    const qemu = await running({ ready: true });
    await h.setStopTimeout(10);
    const { stop } = await stopping();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await stop).toMatchObject({ state: 'stopped', stoppedBy: 'ssh' });
    expect(h.guests.commands).toEqual(['sudo -n poweroff']);
    expect(qemu.qmp.commands).not.toContain('quit');
  });

  it('is killed when its sudo refuses poweroff', async () => {
    ignoring('refuses');
    const qemu = await running({ ready: true });
    const { stop } = await stopping();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await stop).toMatchObject({ stoppedBy: 'kill' });
    expect(qemu.qmp.commands).toEqual(['system_powerdown', 'quit']);
  });
});

describe('a booting guest that ignores the power button', () => {
  it('is killed after stop_timeout, with no SSH attempt', async () => {
    ignoring();
    const qemu = await running({ ready: false });
    const loginsBefore = h.guests.logins.length;
    const { stop } = await stopping();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await stop).toMatchObject({ stoppedBy: 'kill' });
    expect(h.guests.logins.length).toBe(loginsBefore);
    expect(qemu.qmp.commands).toEqual(['system_powerdown', 'quit']);
  });

  it('is SIGKILLed 5 s after a quit QEMU ignores', async () => {
    h.qemu.guest = { answersPowerButton: false, sudo: 'powers-off', quitExits: false };
    const qemu = await running({ ready: false });
    const { stop } = await stopping();
    await vi.advanceTimersByTimeAsync(10_000 + 4_999);
    expect(qemu.killed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await stop).toMatchObject({ stoppedBy: 'kill' });
    expect(qemu.killed).toBe(true);
  });
});

describe('a forced stop', () => {
  it('kills QEMU at once, without the power button', async () => {
    const qemu = await running({ ready: true });
    expect(await h.service.call('vm.stop', { name: 'web', force: true })).toMatchObject({ state: 'stopped', stoppedBy: 'kill' });
    expect(qemu.killed).toBe(true);
    expect(qemu.qmp.commands).toEqual([]);
  });

  it('cuts short a stop that waits on a guest ignoring the power button: both stops answer kill', async () => {
    ignoring();
    const qemu = await running({ ready: true });
    await h.setStopTimeout(60);
    const { stop } = await stopping();
    const forced = await h.service.call('vm.stop', { name: 'web', force: true });
    expect(forced).toMatchObject({ state: 'stopped', stoppedBy: 'kill', pid: null });
    expect(await stop).toMatchObject({ state: 'stopped', stoppedBy: 'kill' });
    expect(qemu.killed).toBe(true);
    expect(h.guests.commands).toEqual([]);
    expect(h.events.filter((e) => e.type === 'vm.state').at(-1)).toMatchObject({ state: 'stopped', stoppedBy: 'kill' });
  });
});

describe('stopping what is not running', () => {
  it('answers the stopped VM, stopped by nothing', async () => {
    expect(await h.service.call('vm.stop', { name: 'web' })).toMatchObject({ state: 'stopped', stoppedBy: null });
  });

  it('runs a stop sent during a start after the start', async () => {
    const [started, stopped] = await Promise.all([h.service.call('vm.start', { name: 'web' }), h.service.call('vm.stop', { name: 'web' })]);
    expect([started.state, stopped.state]).toEqual(['booting', 'stopped']);
    expect(h.states('web')).toEqual(['starting', 'booting', 'stopping', 'stopped']);
  });
});

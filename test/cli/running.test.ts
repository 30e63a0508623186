// `xray start/stop/events/snapshot` through a background daemon the CLI starts itself.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XRAY_BIN, xray } from '../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';
import { isProcessAlive } from '../../src-main/core/vms/runtime';
import { waitFor } from '../helpers/wait';

let home: TestHome;

beforeEach(async () => {
  home = await makeTestHome('xray-cli-run-');
  await addFirmwareOnlyVm(home.paths, 'box');
  // The firmware alone ignores the ACPI power button: keep the graceful stop's wait short.
  await xray(home.root, ['config', 'set', 'stop_timeout', '2']);
});

afterEach(async () => {
  await xray(home.root, ['stop', 'box', '--force']);
  const pid = Number((await readFile(home.paths.lockFile, 'utf8').catch(() => '0')).trim());
  if (pid && isProcessAlive(pid)) process.kill(pid, 'SIGTERM');
  await waitFor('the daemon to exit', () => !pid || !isProcessAlive(pid));
  await home.cleanup();
});

describe('running VMs from the CLI', () => {
  it('starts a background daemon on first start and lists the VM running under it', async () => {
    const start = await xray(home.root, ['start', 'box', '--json']);
    expect(start.code, start.stderr).toBe(0);
    // The test hosts have no usable KVM (the VM lists as tcg below): the warning reaches the terminal, not only daemon.log.
    expect(start.stderr).toMatch(/^xray: warning: .*running under TCG, which is much slower\.\n$/);
    const started = JSON.parse(start.stdout);
    expect(started).toMatchObject({ name: 'box', state: 'booting' });
    expect(isProcessAlive(started.pid)).toBe(true);
    expect(Number((await readFile(home.paths.lockFile, 'utf8')).trim())).not.toBe(started.pid);
    const list = JSON.parse((await xray(home.root, ['list', '--json'])).stdout);
    expect(list[0]).toMatchObject({ name: 'box', state: 'booting', accelerator: 'tcg', pid: started.pid });
  });

  it('answers a second start with the running QEMU, and takes a live snapshot with memory', async () => {
    const first = JSON.parse((await xray(home.root, ['start', 'box', '--json'])).stdout);
    const again = await xray(home.root, ['start', 'box', '--json']);
    expect(JSON.parse(again.stdout).pid).toBe(first.pid);
    const snap = await xray(home.root, ['snapshot', 'create', 'box', 'running-one', '--json']);
    expect(snap.code, snap.stderr).toBe(0);
    expect(JSON.parse(snap.stdout)).toMatchObject({ hasMemory: true });
  });

  it('stops a guest that ignores the power button by killing it, says so, and streams the states', async () => {
    const events = spawn(process.execPath, [XRAY_BIN, 'events', '--json'], { env: { ...process.env, XRAY_HOME: home.root } });
    let streamed = '';
    events.stdout.on('data', (d) => (streamed += d));
    const start = await xray(home.root, ['start', 'box', '--json']);
    const pid = JSON.parse(start.stdout).pid as number;
    const stop = await xray(home.root, ['stop', 'box']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toBe('VM "box" did not shut down when asked, so it was killed.\n');
    expect(isProcessAlive(pid)).toBe(false);
    await waitFor('the stopped event', () => streamed.includes('"state":"stopped"'));
    events.kill('SIGINT');
    const states = streamed
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === 'vm.state');
    expect(states.map((e) => e.state)).toEqual(['starting', 'booting', 'stopping', 'stopped']);
    expect(states.at(-1)).toMatchObject({ stoppedBy: 'kill' });
    expect(await readFile(join(home.paths.vm('box').dir, 'qemu.log'), 'utf8')).not.toMatch(/error/i);
  });

  it('a daemon told to stop with SIGTERM exits promptly, leaving a booting VM running for the next supervisor', async () => {
    const start = await xray(home.root, ['start', 'box', '--json']);
    expect(start.code, start.stderr).toBe(0);
    const vmPid = JSON.parse(start.stdout).pid as number;
    const daemonPid = Number((await readFile(home.paths.lockFile, 'utf8')).trim());
    process.kill(daemonPid, 'SIGTERM');
    await waitFor('the daemon to exit', () => !isProcessAlive(daemonPid), 5000);
    expect(isProcessAlive(vmPid)).toBe(true);
    expect(await readFile(home.paths.daemonLog, 'utf8')).toMatch(/stopped; VM "box" keeps running/);
    const list = JSON.parse((await xray(home.root, ['list', '--json'])).stdout);
    expect(list[0]).toMatchObject({ name: 'box', pid: vmPid });
  });

  it('reads a running VM whose supervisor died from its files, and adopts it for what needs one', async () => {
    const start = await xray(home.root, ['start', 'box', '--json']);
    expect(start.code, start.stderr).toBe(0);
    const vmPid = JSON.parse(start.stdout).pid as number;
    const daemonPid = Number((await readFile(home.paths.lockFile, 'utf8')).trim());
    process.kill(daemonPid, 'SIGKILL');
    await waitFor('the daemon to die', () => !isProcessAlive(daemonPid));

    const info = await xray(home.root, ['info', 'box', '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout).summary).toMatchObject({ name: 'box', pid: vmPid });
    expect((await xray(home.root, ['snapshot', 'list', 'box'])).code).toBe(0);
    expect((await xray(home.root, ['firewall', 'list', 'box'])).code).toBe(0);
    expect(Number((await readFile(home.paths.lockFile, 'utf8')).trim())).toBe(daemonPid);

    const snap = await xray(home.root, ['snapshot', 'create', 'box', 'adopted', '--json']);
    expect(snap.code, snap.stderr).toBe(0);
    const adopter = Number((await readFile(home.paths.lockFile, 'utf8')).trim());
    expect(adopter).not.toBe(daemonPid);
    expect(isProcessAlive(adopter)).toBe(true);
    expect(isProcessAlive(vmPid)).toBe(true);
  });

  it('says clearly when a VM cannot start, and leaves it stopped', async () => {
    const { rm } = await import('node:fs/promises');
    await rm(home.paths.vm('box').efiVars);
    const r = await xray(home.root, ['start', 'box']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/UEFI variable store/);
    expect(JSON.parse((await xray(home.root, ['list', '--json'])).stdout)[0].state).toBe('stopped');
  });

  it('starts a VM whose SSH port another program holds on another port, and says which', async () => {
    const { sshPort } = JSON.parse((await xray(home.root, ['info', 'box', '--json'])).stdout).summary;
    const squatter = createServer().listen(sshPort, '127.0.0.1');
    await once(squatter, 'listening');
    try {
      const r = await xray(home.root, ['start', 'box']);
      expect(r.code, r.stderr).toBe(0);
      const moved = Number(/SSH on 127\.0\.0\.1:(\d+)\./.exec(r.stdout)?.[1]);
      expect(moved).not.toBe(sshPort);
      expect(r.stderr).toContain(`xray: warning: SSH port ${sshPort} is busy`);
      expect(r.stderr).toContain(`so VM "box" now uses ${moved}; if you copied its "xray ssh-config" block, copy it again.`);
      expect(JSON.parse((await xray(home.root, ['list', '--json'])).stdout)[0]).toMatchObject({ state: 'booting', sshPort: moved });
    } finally {
      squatter.close();
    }
  });
});

// The supervisor's VM lifecycle through the service's API, with QEMU and the
// guest faked: starting, readiness, crashes and the queue. Real QEMU runs in
// test/integration/supervisor.
import { writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XrayError } from '../../../src-main/shared/errors';
import { addFirmwareOnlyVm } from '../../helpers/home';
import { refusal } from '../../helpers/refusal';
import { waitFor } from '../../helpers/wait';
import { supervised, type Harness } from './harness';

let h: Harness;

beforeEach(async () => {
  h = await supervised();
});

afterEach(async () => {
  await h.close();
});

describe('starting', () => {
  it('goes stopped → starting → booting', async () => {
    await h.service.call('vm.start', { name: 'web' });
    expect(h.states('web')).toEqual(['starting', 'booting']);
  });

  it('answers with the VM booting under the launched QEMU', async () => {
    const vm = await h.service.call('vm.start', { name: 'web' });
    expect(vm).toMatchObject({ state: 'booting', pid: h.qemu.latest('web').pid, accelerator: 'tcg' });
  });

  it('launches QEMU on the command line the launcher built from the VM', async () => {
    await h.service.call('vm.start', { name: 'web' });
    const argv = h.qemu.latest('web').request?.argv.join(' ') ?? '';
    expect(argv).toContain(h.home.paths.vm('web').disk);
    expect(argv).toContain('-m 256M');
  });

  it('is ready once the guest lets Xray log in, and runs its start hooks then', async () => {
    await h.service.call('vm.start', { name: 'web' });
    h.guests.letIn('web');
    await waitFor('the VM to be ready', () => h.states('web').includes('ready'));
    expect(h.hooksRan).toEqual(['web']);
  });

  it('runs no start hooks when asked not to', async () => {
    await h.service.call('vm.start', { name: 'web', noHooks: true });
    h.guests.letIn('web');
    await waitFor('the VM to be ready', () => h.states('web').includes('ready'));
    expect(h.hooksRan).toEqual([]);
  });

  it('goes back to stopped when QEMU does not come up, and says why', async () => {
    h.qemu.failLaunch = new XrayError('qemu', 'QEMU exited while starting VM "web": no message.');
    expect((await refusal(h.service.call('vm.start', { name: 'web' }))).message).toMatch(/QEMU exited while starting/);
    expect(h.states('web')).toEqual(['starting', 'stopped']);
  });

  it('lists the snapshots of a VM still starting from its files', async () => {
    let launch!: () => void;
    h.qemu.launchGate = new Promise((resolve) => (launch = resolve));
    const starting = h.service.call('vm.start', { name: 'web' });
    await waitFor('the VM to be starting', () => h.states('web').includes('starting'));
    expect(await h.service.call('snapshot.list', { vm: 'web' })).toEqual([]);
    launch();
    await starting;
  });

  it('gives two starts at once one QEMU', async () => {
    const [a, b] = await Promise.all([h.service.call('vm.start', { name: 'web' }), h.service.call('vm.start', { name: 'web' })]);
    expect(a.pid).toBe(b.pid);
    expect(h.qemu.processes).toHaveLength(1);
  });

  it('refuses a VM whose pid file names a live process of another Xray', async () => {
    await writeFile(h.home.paths.vm('web').pid, `${process.pid}\n`);
    expect((await refusal(h.service.call('vm.start', { name: 'web' }))).code).toBe('in-use');
  });

  it('refuses a VM whose base is missing, naming it', async () => {
    await h.service.catalog.store.update('web', (config) => {
      config.base = 'gone';
    });
    expect((await refusal(h.service.call('vm.start', { name: 'web' }))).message).toMatch(/base "gone", which is missing/);
  });
});

describe('preparing a start', () => {
  it('refuses when the host lacks the memory, and launches nothing', async () => {
    h.room.memoryMb = 100;
    expect((await refusal(h.service.call('vm.start', { name: 'web' }))).message).toBe(
      'VM "web" needs 256 MB but only 100 MB of memory is free; stop other VMs or lower its memory.',
    );
    expect(h.qemu.processes).toEqual([]);
  });

  it('refuses when a forwarded port is busy, naming its holder, and launches nothing', async () => {
    await h.service.catalog.store.update('web', (cfg) => {
      cfg.ports = [{ host: 8080, guest: 80 }];
    });
    h.room.busyPorts.set(8080, 'nginx, pid 7');
    expect((await refusal(h.service.call('vm.start', { name: 'web' }))).message).toBe(
      'Port 8080 on 127.0.0.1, which VM "web" forwards, is busy (held by nginx, pid 7); free it or change the VM\'s ports.',
    );
    expect(h.qemu.processes).toEqual([]);
  });

  it('moves the SSH port when another program holds it, past ports other VMs use, and says so', async () => {
    const { sshPort } = await h.service.catalog.store.read('web');
    await addFirmwareOnlyVm(h.home.paths, 'db');
    await h.service.catalog.store.update('db', (cfg) => {
      cfg.sshPort = 2222;
    });
    h.room.busyPorts.set(sshPort, 'vagrant, pid 9');
    h.room.busyPorts.set(2223, 'sshd (pid 8)');
    const started = await h.service.call('vm.start', { name: 'web' });
    expect(started.sshPort).toBe(2224);
    expect((await h.service.catalog.store.read('web')).sshPort).toBe(2224);
    expect(h.qemu.latest('web').request?.argv.join(' ')).toContain('hostfwd=tcp:127.0.0.1:2224-:22');
    expect(h.events).toContainEqual({
      type: 'log',
      level: 'warn',
      source: 'start',
      message: `SSH port ${sshPort} is busy (held by vagrant, pid 9), so VM "web" now uses 2224; if you copied its "xray ssh-config" block, copy it again.`,
    });
  });

  it('refuses a VM with no UEFI variable store', async () => {
    const { rm } = await import('node:fs/promises');
    await rm(h.home.paths.vm('web').efiVars);
    expect((await refusal(h.service.call('vm.start', { name: 'web' }))).message).toMatch(/has no UEFI variable store/);
  });

  it('writes a cloud-init seed with the VM\'s key for a VM whose vm.toml does not opt out', async () => {
    const { readFile, readdir, writeFile } = await import('node:fs/promises');
    const config = h.home.paths.vm('web').config;
    expect(await readFile(config, 'utf8')).not.toContain('cloud_init');
    await h.service.call('vm.start', { name: 'web' });
    const seed = h.home.paths.vm('web').cloudInitSeed;
    const key = (await readFile(`${h.home.paths.vm('web').sshKey}.pub`, 'utf8')).trim();
    expect(await readdir(seed)).toEqual(expect.arrayContaining(['meta-data', 'user-data']));
    expect(await readFile(`${seed}/user-data`, 'utf8')).toContain(key);
    expect(h.qemu.latest('web').request?.argv.join(' ')).toContain('file.label=cidata');
    await h.service.call('vm.stop', { name: 'web', force: true });
    await writeFile(config, `${await readFile(config, 'utf8')}\ncloud_init = false\n`);
    await h.service.call('vm.start', { name: 'web' });
    expect(h.qemu.latest('web').request?.argv.join(' ')).not.toContain('cidata');
  });
});

describe('an exit nobody asked for', () => {
  it('is a crash that keeps QEMU\'s exit signal', async () => {
    await h.service.call('vm.start', { name: 'web' });
    h.qemu.latest('web').exit({ code: null, signal: 'SIGSEGV' });
    await waitFor('the crash', () => h.states('web').includes('crashed'));
    expect((await h.service.call('vm.list', {}))[0]).toMatchObject({ state: 'crashed', pid: null, crash: { signal: 'SIGSEGV' } });
  });

  it('leaves a crashed VM free to start again, without its old crash', async () => {
    await h.service.call('vm.start', { name: 'web' });
    h.qemu.latest('web').exit({ code: 1, signal: null });
    await waitFor('the crash', () => h.states('web').includes('crashed'));
    expect(await h.service.call('vm.start', { name: 'web' })).toMatchObject({ state: 'booting', crash: null });
  });

  it('is no crash when the guest shut itself down: the VM stopped, by the guest', async () => {
    await h.service.call('vm.start', { name: 'web' });
    h.qemu.latest('web').shutDown('guest-shutdown');
    await waitFor('the stop', () => h.states('web').includes('stopped'));
    expect(h.events.at(-1)).toMatchObject({ type: 'vm.state', state: 'stopped', previous: 'booting', stoppedBy: 'guest' });
  });
});

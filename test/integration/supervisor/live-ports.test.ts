// Forwards changed on a running VM, through the built CLI against a real
// supervisor and a real QEMU (a firmware-only guest: what is checked here is
// QEMU's side, the host port; a real guest answering through a live forward
// is test/e2e/ports-guest.test.ts).
import { readFile, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPortFree } from '../../../src-main/core/host';
import type { SshSession } from '../../../src-main/core/ssh';
import { hostSupervisor, type SupervisorHost } from '../../../src-main/core/supervisor/host';
import { xray } from '../../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../../helpers/home';
import { freePort } from '../../helpers/ports';

let home: TestHome;
let host: SupervisorHost;
const holders: Server[] = [];

beforeEach(async () => {
  home = await makeTestHome('xray-ports-');
  await addFirmwareOnlyVm(home.paths, 'web');
  await writeFile(home.paths.configFile, 'stop_timeout = 1\n');
  // No SSH in a firmware-only guest: a login that never arrives keeps it booting.
  host = await hostSupervisor(home.paths, { login: () => new Promise<SshSession>(() => undefined) });
  await host.service.call('vm.start', { name: 'web' });
});

afterEach(async () => {
  for (const server of holders.splice(0)) server.close();
  await host.close({ stopVms: true });
  await home.cleanup();
});

/** accepts tells whether something accepts TCP connections on 127.0.0.1:port now. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('forwards of a running VM', () => {
  it('are added and removed at once, kept in vm.toml, and there again at the next start', async () => {
    const port = await freePort();
    const added = await xray(home.root, ['port', 'add', 'web', `${port}:8000`]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toBe(`VM "web" now forwards 127.0.0.1:${port} to guest port 8000.\n`);
    expect(await accepts(port)).toBe(true);
    expect(await readFile(home.paths.vm('web').config, 'utf8')).toContain(`"${port}:8000"`);

    const listed = JSON.parse((await xray(home.root, ['port', 'list', 'web', '--json'])).stdout);
    // Booting, not ready: nobody can ask the guest yet.
    expect(listed).toMatchObject({ forwards: [{ host: port, guest: 8000, listening: null }], listening: null });

    await host.service.call('vm.stop', { name: 'web', force: true });
    expect(await isPortFree(port)).toBe(true);
    await host.service.call('vm.start', { name: 'web' });
    expect(await accepts(port)).toBe(true);

    const removed = await xray(home.root, ['port', 'remove', 'web', `${port}:8000`]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await isPortFree(port)).toBe(true);
    expect(await readFile(home.paths.vm('web').config, 'utf8')).not.toContain(`"${port}:8000"`);
  });

  it('refuse a host port something else holds, in one sentence, and write nothing', async () => {
    const holder = createServer();
    holders.push(holder);
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    const before = await readFile(home.paths.vm('web').config, 'utf8');
    const refused = await xray(home.root, ['port', 'add', 'web', `${port}:80`]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(new RegExp(`^xray: Host port ${port} is in use on this machine( \\(held by node, pid ${process.pid}\\))?; pick another host port\\.\\n$`));
    expect(await readFile(home.paths.vm('web').config, 'utf8')).toBe(before);
  });

  it('refuse the VM\'s own SSH port and bad numbers before QEMU hears of them', async () => {
    const [summary] = await host.service.call('vm.list', {});
    const taken = await xray(home.root, ['port', 'add', 'web', `${summary!.sshPort}:80`]);
    expect(taken.stderr).toBe(`xray: VM "web" already uses host port ${summary!.sshPort}; pick another host port.\n`);
    const bad = await xray(home.root, ['port', 'add', 'web', '8080:80;quit']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^xray: The port mapping "8080:80;quit" is not HOST:GUEST/);
    expect((await host.service.call('vm.list', {}))[0]).toMatchObject({ state: 'booting' });
  });
});

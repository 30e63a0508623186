// Ports on a real guest (the Debian test guest under QEMU, booted without
// hooks: ports need no firewall): a forward added to the running VM carries a
// real HTTP request to a server in the guest at once, and stops when removed;
// the guest's listening ports show beside the forwards, through the built CLI
// and in Chromium, where a listening port is forwarded with real clicks and keys.
import { get } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrowserServer } from '../../src-main/browser/server';
import type { XrayEvent } from '../../src-main/shared/contract';
import type { GuestListener } from '../../src-main/shared/live';
import { connectVm, type SshSession } from '../../src-main/core/ssh';
import { hostSupervisor, type SupervisorHost } from '../../src-main/core/supervisor/host';
import { ensureTestGuest } from '../guest/guest';
import { xray } from '../helpers/cli';
import { makeTestHome, type TestHome } from '../helpers/home';
import { freePort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';
import { buildRenderer, hasChromium, launchChromium, SCREENSHOTS } from './helpers';

const skip = process.env.XRAY_SKIP_GUEST === '1';
if (skip) console.warn('e2e/ports-guest: skipped because XRAY_SKIP_GUEST=1; no guest is booted.');

const VM = 'ports';
const BOOT_MS = 10 * 60_000;
const BUILD_TIMEOUT_MS = 40 * 60_000;
const PAGE = 'hello from the guest\n';

let home: TestHome;
let host: SupervisorHost;
let ssh: SshSession | null = null;

/** fetchHost GETs a path from 127.0.0.1:port on the host: the body, or the error's code. */
function fetchHost(port: number, path: string): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: 30_000 }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

async function sh(command: string): Promise<number | null> {
  ssh ??= await connectVm(home.paths, VM, await host.service.sshTarget(VM), { timeoutMs: 60_000 });
  return (await ssh.exec(command, { timeoutMs: 180_000 })).code;
}

describe.skipIf(skip)('ports of a running guest', () => {
  beforeAll(async () => {
    const { image } = await ensureTestGuest({ log: (line) => process.stderr.write(`[guest build] ${line}\n`) });
    home = await makeTestHome('xray-e2e-ports-');
    host = await hostSupervisor(home.paths);
    await host.service.call('base.import', { path: image, name: 'debian', arch: 'x86_64', link: true, cloudInit: true });
    await host.service.call('vm.create', { name: VM, base: 'debian', memoryMb: 768, cpus: 2, sshUser: 'xray' });
    const ready = new Promise<void>((resolve, reject) => {
      const stop = host.service.subscribe((e: XrayEvent) => {
        if (e.type !== 'vm.state' || e.vm !== VM) return;
        if (e.state === 'ready') resolve();
        else if (e.state === 'stopped' || e.state === 'crashed') reject(new Error(`VM ${e.state} while booting`));
        else return;
        stop();
      });
    });
    await host.service.call('vm.start', { name: VM, noHooks: true });
    await ready;
    // A web server any forward can reach, and one bound to loopback that none can; the guest says when they listen.
    const started = await sh(
      `mkdir -p /tmp/www && printf '${PAGE.replace('\n', '\\n')}' > /tmp/www/hello.txt && ` +
        'for spec in 0.0.0.0:8000 127.0.0.1:8001; do ' +
        'setsid nohup python3 -m http.server "${spec#*:}" --bind "${spec%:*}" --directory /tmp/www >/dev/null 2>&1 < /dev/null & done',
    );
    expect(started).toBe(0);
    await waitFor(
      'the guest to listen on 8000 and 8001',
      async () => {
        // On a loaded host a login can time out; the next try may get in.
        const ports = ((await host.service.call('port.listening', { vm: VM }).catch(() => null)) ?? []).map((l) => l.port);
        return ports.includes(8000) && ports.includes(8001);
      },
      180_000,
    );
  }, BUILD_TIMEOUT_MS + BOOT_MS);

  afterAll(async () => {
    ssh?.close();
    await host?.close({ stopVms: true });
    await home?.cleanup();
  }, 120_000);

  it('forward live through the built CLI, carry a real request to the guest, and show what listens there', async () => {
    const port = await freePort();
    expect(await fetchHost(port, '/hello.txt')).toEqual({ error: 'ECONNREFUSED' });
    const added = await xray(home.root, ['port', 'add', VM, `${port}:8000`]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toBe(`VM "${VM}" now forwards 127.0.0.1:${port} to guest port 8000.\n`);
    expect(await fetchHost(port, '/hello.txt')).toEqual({ status: 200, body: PAGE });

    const listed = await xray(home.root, ['port', 'list', VM, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const view = JSON.parse(listed.stdout) as { forwards: unknown[]; listening: GuestListener[] };
    expect(view.forwards).toEqual([{ host: port, guest: 8000, listening: true }]);
    const byPort = new Map(view.listening.map((l) => [l.port, l]));
    expect(byPort.get(22)).toMatchObject({ program: 'sshd', reachable: true });
    expect(byPort.get(8000)).toMatchObject({ addresses: ['0.0.0.0'], program: 'python3', reachable: true });
    expect(byPort.get(8001)).toMatchObject({ addresses: ['127.0.0.1'], reachable: false });

    const table = await xray(home.root, ['port', 'list', VM]);
    expect(table.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}\\s+8000\\s+listening \\(python3\\)`));
    expect(table.stdout).toMatch(/Listening in guest:/);
    expect(table.stdout).toMatch(/\n\s+8001\s+127\.0\.0\.1\s+python3\s+- \(loopback only\)\n/);

    const removed = await xray(home.root, ['port', 'remove', VM, `${port}:8000`]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await fetchHost(port, '/hello.txt')).toEqual({ error: 'ECONNREFUSED' });
  }, 180_000);

  it.runIf(hasChromium)('forward a listening guest port from the Overview in Chromium', async () => {
    const renderer = await buildRenderer();
    let browser: Browser | null = null;
    const server = await startBrowserServer({ api: host.service, rendererDir: renderer.dir });
    try {
      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1100, height: 680 }, colorScheme: 'light' });
      await page.goto(server.url);
      await page.locator(`tr[data-vm="${VM}"]`).getByRole('button', { name: VM, exact: true }).click();
      const listening = page.getByRole('list', { name: 'Listening in guest' });
      await listening.locator('li[data-guest-port="8000"]').waitFor({ timeout: 60_000 });
      expect(await listening.locator('li[data-guest-port="8001"]').textContent()).toContain('loopback only');
      await listening.getByRole('button', { name: 'Forward guest port 8000' }).click();
      const field = page.getByLabel('New port');
      expect(await field.inputValue()).toBe('8000:8000');
      const port = await freePort();
      await field.fill(`${port}:8000`);
      await field.press('Enter');
      await page.getByText(`Forwarding 127.0.0.1:${port} to guest port 8000.`).waitFor();
      await page.getByText('listening · python3').waitFor();
      expect(await fetchHost(port, '/hello.txt')).toEqual({ status: 200, body: PAGE });
      await page.screenshot({ path: join(SCREENSHOTS, 'guest-ports.png') });
    } finally {
      await browser?.close();
      await server.close();
      await renderer.cleanup();
    }
  }, 180_000);
});

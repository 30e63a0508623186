// The live views in Chromium over a real supervisor and a real QEMU (a
// firmware-only guest): the Firewall tab shows a real SOCKS client's download
// (curl through the VM's proxy.sock, as a guest's connection arrives) with
// bytes that grow while it runs and gone once it closes; the Overview adds a
// forward to the running VM with real clicks and keys, and QEMU listens on it
// at once. The guest's listening ports need a real guest: ports-guest.test.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startBrowserServer, type BrowserServer } from '../../src-main/browser/server';
import type { SshSession } from '../../src-main/core/ssh';
import { hostSupervisor, type SupervisorHost } from '../../src-main/core/supervisor/host';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';
import { freePort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';
import { buildRenderer, hasChromium, launchChromium, SCREENSHOTS } from './helpers';

let renderer: { dir: string; cleanup: () => Promise<void> };
let browser: Browser;
let home: TestHome;
let host: SupervisorHost;
let server: BrowserServer;
let page: Page;
let web: Server;
let webPort: number;
const streams = new Set<ServerResponse>();
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  renderer = await buildRenderer();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await renderer?.cleanup();
});

beforeEach(async () => {
  if (!hasChromium) return;
  home = await makeTestHome('xray-live-view-');
  await addFirmwareOnlyVm(home.paths, 'dev');
  await writeFile(home.paths.configFile, 'stop_timeout = 1\n');
  web = createServer((_req, res) => {
    streams.add(res);
    res.writeHead(200);
    const timer = setInterval(() => res.write(Buffer.alloc(8192, 120)), 100);
    res.on('close', () => {
      clearInterval(timer);
      streams.delete(res);
    });
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  webPort = (web.address() as AddressInfo).port;
  host = await hostSupervisor(home.paths, { login: () => new Promise<SshSession>(() => undefined) });
  await host.service.call('vm.start', { name: 'dev' });
  server = await startBrowserServer({ api: host.service, rendererDir: renderer.dir });
  page = await browser.newPage({ viewport: { width: 1100, height: 680 }, colorScheme: 'light' });
  await page.goto(server.url);
  await page.locator('tr[data-vm="dev"]').getByRole('button', { name: 'dev', exact: true }).click();
});

afterEach(async () => {
  if (!hasChromium) return;
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const res of streams) res.destroy();
  await page.close();
  await server.close();
  await host.close({ stopVms: true });
  web.close();
  await home.cleanup();
});

function download(): ChildProcess {
  const child = spawn('curl', ['-sS', '-o', '/dev/null', '--proxy', `socks5h://localhost${home.paths.vm('dev').proxySocket}`, `http://host.xray.internal:${webPort}/`]);
  children.push(child);
  return child;
}

/** kib reads a byte count as the table prints it ("512 B", "1.5 MiB") back into KiB. */
function kib(text: string): number {
  const [value, unit] = text.trim().split(' ');
  return Number(value) * ({ B: 1 / 1024, KiB: 1, MiB: 1024, GiB: 1024 * 1024 } as Record<string, number>)[unit!]!;
}

describe.runIf(hasChromium)('live views in Chromium', () => {
  it("show a real download in the Firewall tab with growing bytes, and drop it once it closes", async () => {
    await host.service.call('firewall.add', { vm: 'dev', target: `host.xray.internal:${webPort}`, action: 'allow', lifetime: 'until-stop' });
    await page.getByRole('tab', { name: 'Firewall' }).click();
    await page.getByText('Nothing is open right now.').waitFor();
    const child = download();
    const row = page.getByRole('table', { name: 'Open connections' }).locator('tr[data-connection]');
    await row.waitFor();
    const cells = row.locator('td');
    expect(await cells.nth(0).textContent()).toBe(`host.xray.internal:${webPort}`);
    expect(await cells.nth(5).textContent()).toBe(`rule host.xray.internal:${webPort}`);
    const first = kib((await cells.nth(3).textContent())!);
    await waitFor('the download to grow on screen', async () => kib((await cells.nth(3).textContent())!) > first + 64, 15_000);
    await page.screenshot({ path: join(SCREENSHOTS, 'open-connections.png') });
    child.kill();
    await page.getByText('Nothing is open right now.').waitFor({ timeout: 15_000 });
  });

  it('add a forward to the running VM from the Overview, and QEMU takes it at once', async () => {
    const port = await freePort();
    await page.getByLabel('New port').fill(`${port}:8000`);
    await page.getByLabel('New port').press('Enter');
    await page.getByText(`Forwarding 127.0.0.1:${port} to guest port 8000.`).waitFor();
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    expect(accepted).toBe(true);
    await page.getByRole('button', { name: `Remove port ${port}` }).click();
    await page.getByText(`Removed ${port}→8000.`).waitFor();
    expect((await host.service.call('port.list', { vm: 'dev' })).length).toBe(0);
  });
});

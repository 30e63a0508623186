// The real UI in Chromium, in browser mode, over a real supervisor running real
// QEMU (a firmware-only VM under TCG): import by drop, create, start, snapshot,
// revert, stop. Screenshots of each main screen go to docs/screenshots.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrowserServer, type BrowserServer } from '../../src-main/browser/server';
import { ControlClient } from '../../src-main/core/control/client';
import type { SshSession } from '../../src-main/core/ssh';
import { hostSupervisor, type SupervisorHost } from '../../src-main/core/supervisor/host';
import { qemuImg } from '../helpers/cli';
import { makeTestHome, type TestHome } from '../helpers/home';
import { buildRenderer, hasChromium, launchChromium, SCREENSHOTS } from './helpers';

let home: TestHome;
let host: SupervisorHost;
let api: ControlClient;
let renderer: { dir: string; cleanup: () => Promise<void> };
let server: BrowserServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  home = await makeTestHome('xray-e2e-');
  await writeFile(home.paths.configFile, 'stop_timeout = 2\n');
  // The firmware-only guest has no SSH: a fake session (it runs no hooks) makes it ready once QEMU runs.
  const fakeSession = { close: () => undefined } as unknown as SshSession;
  host = await hostSupervisor(home.paths, { login: async () => fakeSession });
  api = await ControlClient.connect(home.paths.controlSocket);
  renderer = await buildRenderer();
  server = await startBrowserServer({ api, rendererDir: renderer.dir });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1100, height: 680 }, colorScheme: 'light' });
  await mkdir(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  api?.close();
  await host?.close({ stopVms: true });
  const left = spawnSync('pgrep', ['-f', `qemu-system.*${home.root}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const pid of left) process.kill(Number(pid), 'SIGKILL');
  await renderer?.cleanup();
  await home?.cleanup();
});

const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });

/** dropFile drops a file from disk on an element, as a user dragging it from Finder would. */
async function dropFile(selector: string, path: string, name: string): Promise<void> {
  const base64 = (await readFile(path)).toString('base64');
  await page.evaluate(
    ({ selector, base64, name }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name));
      const target = document.querySelector(selector)!;
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    { selector, base64, name },
  );
}

describe.runIf(hasChromium)('browser UI over a real supervisor', () => {
  it('guides a new user, imports a dropped image, creates, starts, snapshots, reverts and stops a VM', async () => {
    await page.goto(server.url);
    await page.getByText('No virtual machines yet').waitFor();
    expect(await page.getByText(/A VM starts from a base image/).isVisible()).toBe(true);
    await page.getByRole('button', { name: /^Get Debian 12/ }).first().waitFor();
    await shot('empty-state');

    await page.getByRole('navigation').getByRole('button', { name: 'Base images' }).click();
    await page.getByText('No base images yet').waitFor();
    const image = join(home.root, 'debian-fw.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', image, '1G']);
    await dropFile('[data-testid="dropzone"]', image, 'debian-fw.qcow2');
    await page.getByText('Imported debian-fw.qcow2.').waitFor({ timeout: 20_000 });
    await page.locator('tr[data-base="debian-fw"]').waitFor();
    expect((await api.call('base.list', {})).map((b) => b.name)).toEqual(['debian-fw']);
    await shot('bases');

    await page.getByRole('navigation').getByRole('button', { name: 'Virtual machines' }).click();
    await page.getByRole('button', { name: 'New VM…' }).first().click();
    await page.getByLabel('Name').fill('-bad');
    expect(await page.getByRole('alert').textContent()).toBe('The name starts with a dash.');
    await page.getByLabel('Name').fill('web');
    await page.getByLabel('Memory (MB)').fill('256');
    await page.getByLabel('CPUs').fill('1');
    await page.getByLabel(/Forwarded ports/).fill('18080:80');
    await shot('create-dialog');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'web' }).waitFor();
    expect((await api.call('vm.list', {})).map((v) => [v.name, v.base, v.memoryMb])).toEqual([['web', 'debian-fw', 256]]);

    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.locator('[data-testid="detail-state"]', { hasText: 'running' }).waitFor({ timeout: 30_000 });
    expect((await api.call('vm.info', { name: 'web' })).summary.state).toBe('ready');
    await shot('vm-detail');

    await page.getByRole('tab', { name: 'Timeline' }).click();
    await page.getByLabel('Snapshot name').fill('clean');
    await page.getByLabel('Snapshot note').fill('fresh from firmware');
    await page.getByRole('button', { name: 'Take snapshot' }).click();
    await page.locator('li[data-snapshot="clean"].memory').waitFor({ timeout: 30_000 });
    await page.getByLabel('Snapshot name').fill('later');
    await page.getByRole('button', { name: 'Take snapshot' }).click();
    await page.locator('li[data-snapshot="later"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('li[data-snapshot]').evaluateAll((els) => els.map((e) => e.getAttribute('data-snapshot')))).toEqual(['clean', 'later']);
    await page.getByRole('button', { name: 'Revert to clean' }).click();
    await page.getByRole('alertdialog').waitFor();
    await shot('snapshots');
    await page.getByRole('button', { name: 'Revert', exact: true }).click();
    await page.getByText(/^Reverting to snapshot/).waitFor({ state: 'detached', timeout: 30_000 });
    expect(await page.locator('.snapshots .error').count()).toBe(0);
    expect((await api.call('snapshot.list', { vm: 'web' })).map((s) => [s.name, s.hasMemory])).toEqual([['clean', true], ['later', true]]);

    await page.getByRole('button', { name: 'Back to the VM list' }).click();
    const row = page.locator('tr[data-vm="web"]');
    expect(await row.getByTestId('state').textContent()).toBe('running');
    await shot('vm-list');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('vm-list-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    await page.getByRole('button', { name: 'Stop web' }).click();
    await row.getByTestId('state').filter({ hasText: 'stopped' }).waitFor({ timeout: 30_000 });
    expect((await api.call('vm.info', { name: 'web' })).summary.state).toBe('stopped');
  });

  it('answers a firewall prompt raised by a real SOCKS connection with a click, and the connection then succeeds', async () => {
    const web = createServer((_req, res) => res.end('through the firewall\n'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
    const port = (web.address() as AddressInfo).port;
    try {
      await api.call('vm.start', { name: 'web' });
      await page.goto(server.url);
      await page.locator('tr[data-vm="web"]').waitFor();
      // What a guest connection becomes after redsocks: a SOCKS5 CONNECT on the VM's proxy socket.
      const curl = spawn('curl', ['-sS', '--max-time', '60', '--proxy', `socks5h://localhost${home.paths.vm('web').proxySocket}`, `http://host.xray.internal:${port}/`]);
      let body = '';
      curl.stdout.on('data', (d) => (body += d));
      const exited = new Promise<number>((resolve) => curl.on('exit', (code) => resolve(code ?? -1)));
      const dialog = page.getByRole('alertdialog');
      await dialog.getByText(`web wants to connect to host.xray.internal:${port}`).waitFor({ timeout: 30_000 });
      await dialog.getByRole('button', { name: 'Allow', disabled: false }).waitFor();
      await shot('firewall-prompt-live');
      await dialog.getByRole('radio', { name: 'Forever' }).check();
      await dialog.getByRole('button', { name: /Allow/ }).click();
      expect(await exited).toBe(0);
      expect(body).toBe('through the firewall\n');
      await dialog.waitFor({ state: 'detached' });
      const rules = await api.call('firewall.rules', { vm: 'web' });
      expect(rules).toContainEqual(expect.objectContaining({ action: 'allow', lifetime: { kind: 'forever' }, target: { kind: 'domain', domain: 'host.xray.internal', port } }));
    } finally {
      web.close();
      await api.call('vm.stop', { name: 'web', force: true });
    }
  });
});

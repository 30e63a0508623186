// Stop and Force stop in Chromium, with real clicks and keys, over a real
// supervisor running real QEMU: a firmware-only guest ignores the power
// button, as the stock Debian cloud guest did under TCG, so a gentle stop
// ends in a kill after stop_timeout, and Force stop cuts such a stop short.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrowserServer, type BrowserServer } from '../../src-main/browser/server';
import { ControlClient } from '../../src-main/core/control/client';
import type { SshSession } from '../../src-main/core/ssh';
import { hostSupervisor, type SupervisorHost } from '../../src-main/core/supervisor/host';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';
import { buildRenderer, hasChromium, launchChromium } from './helpers';

let home: TestHome;
let host: SupervisorHost;
let api: ControlClient;
let renderer: { dir: string; cleanup: () => Promise<void> };
let server: BrowserServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  home = await makeTestHome('xray-e2e-stop-');
  await addFirmwareOnlyVm(home.paths, 'web');
  await writeFile(home.paths.configFile, 'stop_timeout = 1\n');
  // The firmware-only guest has no SSH: a fake session that can run nothing makes it ready, so a stop tries SSH and fails.
  const fakeSession = { close: () => undefined } as unknown as SshSession;
  host = await hostSupervisor(home.paths, { login: async () => fakeSession });
  api = await ControlClient.connect(home.paths.controlSocket);
  renderer = await buildRenderer();
  server = await startBrowserServer({ api, rendererDir: renderer.dir });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  await page.goto(server.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  api?.close();
  await host?.supervisor.stopAll(true);
  await host?.close();
  const left = spawnSync('pgrep', ['-f', `qemu-system.*${home.root}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const pid of left) process.kill(Number(pid), 'SIGKILL');
  await renderer?.cleanup();
  await home?.cleanup();
});

const row = () => page.locator('tr[data-vm="web"]');

/** running starts "web" through the API and waits until its row says so. */
async function running(): Promise<void> {
  await api.call('vm.start', { name: 'web' });
  await row().getByTestId('state').filter({ hasText: 'running' }).waitFor({ timeout: 30_000 });
}

describe.runIf(hasChromium)('Stop and Force stop in Chromium over real QEMU', () => {
  it('Stop in a row says the guest ignored the request and was killed', async () => {
    await running();
    await page.getByRole('button', { name: 'Stop web' }).click();
    await row().getByTestId('state').filter({ hasText: 'stopped' }).waitFor({ timeout: 30_000 });
    await row().getByRole('status').filter({ hasText: 'VM "web" did not shut down when asked, so it was killed.' }).waitFor();
    expect((await api.call('vm.info', { name: 'web' })).summary).toMatchObject({ state: 'stopped', pid: null });
  }, 60_000);

  it('Force stop… takes Stop\'s place while a stop waits, asks first, and ends the stop at once, all by keyboard', async () => {
    await api.call('config.set', { key: 'stop_timeout', value: '120' });
    await running();
    expect(await row().getByRole('status').count()).toBe(0);
    await page.getByRole('button', { name: 'Stop web' }).focus();
    await page.keyboard.press('Enter');
    await row().getByTestId('state').filter({ hasText: 'stopping' }).waitFor({ timeout: 10_000 });
    const force = page.getByRole('button', { name: 'Force stop web' });
    await force.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('whatever the guest has not yet written to its disk is lost');
    // Esc keeps the stop going as it was.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await row().getByTestId('state').textContent()).toBe('stopping');
    await force.focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    const asked = Date.now();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Force stop');
    await page.keyboard.press('Enter');
    await row().getByTestId('state').filter({ hasText: 'stopped' }).waitFor({ timeout: 15_000 });
    expect(Date.now() - asked).toBeLessThan(15_000);
    await row().getByRole('status').filter({ hasText: 'VM "web" was killed.' }).waitFor();
  }, 60_000);

  it('Force stop… in the VM\'s header, with clicks: Cancel leaves it running, Force stop kills it', async () => {
    await running();
    await row().getByRole('button', { name: 'web', exact: true }).click();
    await page.getByRole('heading', { name: 'web' }).waitFor();
    await page.getByRole('button', { name: 'Force stop…' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    expect(await page.getByTestId('detail-state').textContent()).toBe('running');
    await page.getByRole('button', { name: 'Force stop…' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Force stop' }).click();
    await page.getByTestId('detail-state').filter({ hasText: 'stopped' }).waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('stop-notice').textContent()).toBe('VM "web" was killed.');
    expect((await api.call('vm.info', { name: 'web' })).summary.pid).toBeNull();
  }, 60_000);
});

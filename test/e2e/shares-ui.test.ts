// The Shares tab in Chromium, with real clicks and keys, over the real
// service on a temporary home: sharing a folder writes vm.toml, a missing
// folder is refused with the service's sentence, and removing one empties it.
import TOML from '@iarna/toml';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrowserServer } from '../../src-main/browser/server';
import { createService } from '../../src-main/core/bootstrap';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';
import { buildRenderer, hasChromium, launchChromium } from './helpers';

let renderer: { dir: string; cleanup: () => Promise<void> };
let browser: Browser;
let home: TestHome;
let projects: string;
let page: Page;
let closeServer: () => Promise<void>;

describe.runIf(hasChromium)('the Shares tab in Chromium', () => {
  beforeAll(async () => {
    home = await makeTestHome('xray-e2e-shares-ui-');
    projects = await mkdtemp(join(tmpdir(), 'xray-e2e-projects-'));
    await mkdir(join(projects, 'app'));
    await addFirmwareOnlyVm(home.paths, 'dev');
    const api = await createService(home.paths);
    renderer = await buildRenderer();
    browser = await launchChromium();
    const server = await startBrowserServer({ api, rendererDir: renderer.dir });
    closeServer = () => server.close();
    page = await browser.newPage({ viewport: { width: 1100, height: 680 } });
    await page.goto(server.url);
    await page.locator('tr[data-vm="dev"]').getByRole('button', { name: 'dev', exact: true }).click();
    await page.getByRole('tab', { name: 'Shares' }).click();
    await page.getByText('No shared folders.').waitFor();
  }, 60_000);

  afterAll(async () => {
    await page?.close();
    await closeServer?.();
    await browser?.close();
    await renderer?.cleanup();
    await home?.cleanup();
    await rm(projects, { recursive: true, force: true });
  });

  const sharesInFile = async () => (TOML.parse(await readFile(home.paths.vm('dev').config, 'utf8')) as { shares?: unknown }).shares;

  it('refuses a folder that does not exist with the service\'s sentence, writing nothing', async () => {
    await page.getByLabel('Host folder').fill(join(projects, 'missing'));
    await page.getByRole('button', { name: 'Share' }).click();
    await page.getByRole('alert').filter({ hasText: 'does not exist; create the folder first or check the path.' }).waitFor();
    expect(await sharesInFile()).toBeUndefined();
  });

  it('shares a folder read-only at a guest path typed with the keyboard, then removes it with a click', async () => {
    const app = join(projects, 'app');
    await page.getByLabel('Host folder').fill(app);
    await page.getByLabel('In the guest').click();
    await page.keyboard.type('/work/app');
    await page.getByLabel('Read-only').check();
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: `Sharing ${app} at /work/app, read-only. Shares take effect at the VM's next start.` }).waitFor();
    expect(await page.getByRole('table', { name: 'Shared folders' }).locator('tbody tr').allTextContents()).toEqual([`${app}/work/appread-onlyremove`]);
    expect(await sharesInFile()).toEqual([{ host: app, guest: '/work/app', read_only: true }]);

    await page.getByRole('button', { name: 'Remove the share at /work/app' }).click();
    await page.getByText('No shared folders.').waitFor();
    expect(await sharesInFile()).toBeUndefined();
  });
});

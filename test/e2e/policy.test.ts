// The Firewall tab's policy buttons in Chromium, in browser mode, over a real
// supervisor: Export downloads the VM's policy file; Import reads a file the
// person picks, shows what it would change in a dialog, and applies it only
// on Apply.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  home = await makeTestHome('xray-e2e-policy-');
  await addFirmwareOnlyVm(home.paths, 'web');
  host = await hostSupervisor(home.paths, { login: () => new Promise<SshSession>(() => undefined) });
  api = await ControlClient.connect(home.paths.controlSocket);
  renderer = await buildRenderer();
  server = await startBrowserServer({ api, rendererDir: renderer.dir });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1100, height: 680 }, acceptDownloads: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  api?.close();
  await host?.close({ stopVms: true });
  await renderer?.cleanup();
  await home?.cleanup();
});

/** importFile picks `path` in the file chooser the Import button opens, as a person would. */
async function importFile(path: string): Promise<void> {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Import policy…' }).click()]);
  await chooser.setFiles(path);
}

describe.runIf(hasChromium)('firewall policy in the app', () => {
  it('exports the policy file, and imports one after showing its changes', async () => {
    await api.call('firewall.add', { vm: 'web', target: 'api.github.com GET /repos/*', action: 'allow', lifetime: 'forever' });
    await api.call('firewall.add', { vm: 'web', target: 'pypi.org:443', action: 'allow', lifetime: 'forever' });
    await page.goto(server.url);
    await page.locator('tr[data-vm="web"]').getByRole('button', { name: 'web', exact: true }).click();
    await page.getByRole('tab', { name: 'Firewall' }).click();
    await page.locator('tr[data-rule="pypi.org:443"]').waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export policy' }).click()]);
    expect(download.suggestedFilename()).toBe('web-policy.toml');
    const exported = await readFile((await download.path())!, 'utf8');
    expect(exported).toBe((await api.call('firewall.export', { vm: 'web' })).text);
    await page.getByRole('status').getByText('Exported 2 rules and 0 secret bindings.').waitFor();

    const file = join(home.root, 'policy.toml');
    await writeFile(file, exported.replace('"pypi.org:443" = "allow"', '"registry.npmjs.org:443" = "allow"'));
    const before = await readFile(home.paths.vm('web').config, 'utf8');
    await importFile(file);
    const dialog = page.getByRole('dialog', { name: 'Apply policy.toml to web?' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('Changes').innerText()).toBe('Rules:\n  + allow registry.npmjs.org:443\n  - allow pypi.org:443\n');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await readFile(home.paths.vm('web').config, 'utf8')).toBe(before);

    await importFile(file);
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('status').getByText('Applied policy.toml: 1 rule added, 1 removed.').waitFor();
    await page.locator('tr[data-rule="registry.npmjs.org:443"]').waitFor();
    expect(await page.locator('tr[data-rule="pypi.org:443"]').count()).toBe(0);
    expect(await readFile(home.paths.vm('web').config, 'utf8')).toContain('"registry.npmjs.org:443" = "allow"');

    await importFile(file);
    await page.getByRole('status').getByText('web already follows policy.toml; nothing to change.').waitFor();
    await writeFile(file, '[firewall]\n');
    await importFile(file);
    await page.getByRole('alert').getByText('policy.toml: this is not an Xray policy (it has no "xray_policy = 1" line); write one with "xray firewall export VM".').waitFor();
  }, 60_000);
});

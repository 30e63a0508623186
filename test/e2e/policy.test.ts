// The Firewall tab's policy buttons in Chromium, in browser mode, over a real
// supervisor: Export downloads the VM's policy file; Import reads a file the
// person picks, shows what it would change in a dialog, and applies it only
// on Apply.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SshSession } from '../../src-main/core/ssh';
import { hasChromium } from './helpers';
import { supervisedAppSuite } from './supervised-app';

// A login that never answers: the VM stays booting, and no hook runs.
const app = supervisedAppSuite({
  prefix: 'xray-e2e-policy-',
  vms: ['web'],
  login: () => new Promise<SshSession>(() => undefined),
  page: { viewport: { width: 1100, height: 680 }, acceptDownloads: true },
});

/** importFile picks `path` in the file chooser the Import button opens, as a person would. */
async function importFile(path: string): Promise<void> {
  const [chooser] = await Promise.all([app.page.waitForEvent('filechooser'), app.page.getByRole('button', { name: 'Import policy…' }).click()]);
  await chooser.setFiles(path);
}

describe.runIf(hasChromium)('firewall policy in the app', () => {
  it('exports the policy file, and imports one after showing its changes', async () => {
    await app.api.call('firewall.add', { vm: 'web', target: 'api.github.com GET /repos/*', action: 'allow', lifetime: 'forever' });
    await app.api.call('firewall.add', { vm: 'web', target: 'pypi.org:443', action: 'allow', lifetime: 'forever' });
    await app.page.goto(app.server.url);
    await app.page.locator('tr[data-vm="web"]').getByRole('button', { name: 'web', exact: true }).click();
    await app.page.getByRole('tab', { name: 'Firewall' }).click();
    await app.page.locator('tr[data-rule="pypi.org:443"]').waitFor();

    const [download] = await Promise.all([app.page.waitForEvent('download'), app.page.getByRole('button', { name: 'Export policy' }).click()]);
    expect(download.suggestedFilename()).toBe('web-policy.toml');
    const exported = await readFile((await download.path())!, 'utf8');
    expect(exported).toBe((await app.api.call('firewall.export', { vm: 'web' })).text);
    await app.page.getByRole('status').getByText('Exported 2 rules and 0 secret bindings.').waitFor();

    const file = join(app.home.root, 'policy.toml');
    await writeFile(file, exported.replace('"pypi.org:443" = "allow"', '"registry.npmjs.org:443" = "allow"'));
    const before = await readFile(app.home.paths.vm('web').config, 'utf8');
    await importFile(file);
    const dialog = app.page.getByRole('dialog', { name: 'Apply policy.toml to web?' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('Changes').innerText()).toBe('Rules:\n  + allow registry.npmjs.org:443\n  - allow pypi.org:443\n');
    await app.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await readFile(app.home.paths.vm('web').config, 'utf8')).toBe(before);

    await importFile(file);
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await app.page.getByRole('status').getByText('Applied policy.toml: 1 rule added, 1 removed.').waitFor();
    await app.page.locator('tr[data-rule="registry.npmjs.org:443"]').waitFor();
    expect(await app.page.locator('tr[data-rule="pypi.org:443"]').count()).toBe(0);
    expect(await readFile(app.home.paths.vm('web').config, 'utf8')).toContain('"registry.npmjs.org:443" = "allow"');

    await importFile(file);
    await app.page.getByRole('status').getByText('web already follows policy.toml; nothing to change.').waitFor();
    await writeFile(file, '[firewall]\n');
    await importFile(file);
    await app.page.getByRole('alert').getByText('policy.toml: this is not an Xray policy (it has no "xray_policy = 1" line); write one with "xray firewall export VM".').waitFor();
  }, 60_000);
});

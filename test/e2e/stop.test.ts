// Stop and Force stop in Chromium, with real clicks and keys, over a real
// supervisor running real QEMU: a firmware-only guest ignores the power
// button, as the stock Debian cloud guest did under TCG, so a gentle stop
// ends in a kill after stop_timeout, and Force stop cuts such a stop short.
import { beforeAll, describe, expect, it } from 'vitest';
import { hasChromium } from './helpers';
import { supervisedAppSuite } from './supervised-app';

const app = supervisedAppSuite({
  prefix: 'xray-e2e-stop-',
  config: 'stop_timeout = 1\n',
  vms: ['web'],
  page: { viewport: { width: 800, height: 600 } },
});

beforeAll(async () => {
  await app.page.goto(app.server.url);
});

const row = () => app.page.locator('tr[data-vm="web"]');

/** running starts "web" through the API and waits until its row says so. */
async function running(): Promise<void> {
  await app.api.call('vm.start', { name: 'web' });
  await row().getByTestId('state').filter({ hasText: 'running' }).waitFor({ timeout: 30_000 });
}

describe.runIf(hasChromium)('Stop and Force stop in Chromium over real QEMU', () => {
  it('Stop in a row says the guest ignored the request and was killed', async () => {
    await running();
    await app.page.getByRole('button', { name: 'Stop web' }).click();
    await row().getByTestId('state').filter({ hasText: 'stopped' }).waitFor({ timeout: 30_000 });
    await row().getByRole('status').filter({ hasText: 'VM "web" did not shut down when asked, so it was killed.' }).waitFor();
    expect((await app.api.call('vm.info', { name: 'web' })).summary).toMatchObject({ state: 'stopped', pid: null });
  }, 60_000);

  it('Force stop… takes Stop\'s place while a stop waits, asks first, and ends the stop at once, all by keyboard', async () => {
    await app.api.call('config.set', { key: 'stop_timeout', value: '120' });
    await running();
    expect(await row().getByRole('status').count()).toBe(0);
    await app.page.getByRole('button', { name: 'Stop web' }).focus();
    await app.page.keyboard.press('Enter');
    await row().getByTestId('state').filter({ hasText: 'stopping' }).waitFor({ timeout: 10_000 });
    const force = app.page.getByRole('button', { name: 'Force stop web' });
    await force.focus();
    await app.page.keyboard.press('Enter');
    const dialog = app.page.getByRole('alertdialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('whatever the guest has not yet written to its disk is lost');
    // Esc keeps the stop going as it was.
    await app.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await row().getByTestId('state').textContent()).toBe('stopping');
    await force.focus();
    await app.page.keyboard.press('Enter');
    await dialog.waitFor();
    const asked = Date.now();
    await app.page.keyboard.press('Tab');
    expect(await app.page.evaluate(() => document.activeElement?.textContent)).toBe('Force stop');
    await app.page.keyboard.press('Enter');
    await row().getByTestId('state').filter({ hasText: 'stopped' }).waitFor({ timeout: 15_000 });
    expect(Date.now() - asked).toBeLessThan(15_000);
    await row().getByRole('status').filter({ hasText: 'VM "web" was killed.' }).waitFor();
  }, 60_000);

  it('Force stop… in the VM\'s header, with clicks: Cancel leaves it running, Force stop kills it', async () => {
    await running();
    await row().getByRole('button', { name: 'web', exact: true }).click();
    await app.page.getByRole('heading', { name: 'web' }).waitFor();
    await app.page.getByRole('button', { name: 'Force stop…' }).click();
    await app.page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
    await app.page.getByRole('alertdialog').waitFor({ state: 'detached' });
    expect(await app.page.getByTestId('detail-state').textContent()).toBe('running');
    await app.page.getByRole('button', { name: 'Force stop…' }).click();
    await app.page.getByRole('alertdialog').getByRole('button', { name: 'Force stop' }).click();
    await app.page.getByTestId('detail-state').filter({ hasText: 'stopped' }).waitFor({ timeout: 15_000 });
    expect(await app.page.getByTestId('stop-notice').textContent()).toBe('VM "web" was killed.');
    expect((await app.api.call('vm.info', { name: 'web' })).summary.pid).toBeNull();
  }, 60_000);
});

// The real UI in Chromium, in browser mode, over a real supervisor running real
// QEMU (a firmware-only VM under TCG): import by drop, create, start, snapshot,
// revert, stop. Screenshots of each main screen go to docs/screenshots.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { qemuImg } from '../helpers/cli';
import { hasChromium, SCREENSHOTS } from './helpers';
import { supervisedAppSuite } from './supervised-app';

const app = supervisedAppSuite({
  prefix: 'xray-e2e-',
  config: 'stop_timeout = 2\n',
  page: { viewport: { width: 1100, height: 680 }, colorScheme: 'light' },
});

const shot = (name: string) => app.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });

/** dropFile drops a file from disk on an element, as a user dragging it from Finder would. */
async function dropFile(selector: string, path: string, name: string): Promise<void> {
  const base64 = (await readFile(path)).toString('base64');
  await app.page.evaluate(
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
    await app.page.goto(app.server.url);
    await app.page.getByText('No virtual machines yet').waitFor();
    expect(await app.page.getByText(/A VM starts from a base image/).isVisible()).toBe(true);
    await app.page.getByRole('button', { name: /^Get Debian 12/ }).first().waitFor();
    await shot('empty-state');

    await app.page.getByRole('navigation').getByRole('button', { name: 'Base images' }).click();
    await app.page.getByText('No base images yet').waitFor();
    const image = join(app.home.root, 'debian-fw.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', image, '1G']);
    await dropFile('[data-testid="dropzone"]', image, 'debian-fw.qcow2');
    await app.page.getByText('Imported debian-fw.qcow2.').waitFor({ timeout: 20_000 });
    await app.page.locator('tr[data-base="debian-fw"]').waitFor();
    expect((await app.api.call('base.list', {})).map((b) => b.name)).toEqual(['debian-fw']);
    await shot('bases');

    await app.page.getByRole('navigation').getByRole('button', { name: 'Virtual machines' }).click();
    await app.page.getByRole('button', { name: 'New VM…' }).first().click();
    await app.page.getByLabel('Name').fill('-bad');
    expect(await app.page.getByRole('alert').textContent()).toBe('The name starts with a dash.');
    await app.page.getByLabel('Name').fill('web');
    await app.page.getByLabel('Memory (MB)').fill('256');
    await app.page.getByLabel('CPUs').fill('1');
    await app.page.getByLabel(/Forwarded ports/).fill('18080:80');
    await shot('create-dialog');
    await app.page.getByRole('button', { name: 'Create' }).click();
    await app.page.getByRole('heading', { name: 'web' }).waitFor();
    expect((await app.api.call('vm.list', {})).map((v) => [v.name, v.base, v.memoryMb])).toEqual([['web', 'debian-fw', 256]]);

    await app.page.getByRole('button', { name: 'Start', exact: true }).click();
    await app.page.locator('[data-testid="detail-state"]', { hasText: 'running' }).waitFor({ timeout: 30_000 });
    expect((await app.api.call('vm.info', { name: 'web' })).summary.state).toBe('ready');
    await shot('vm-detail');

    await app.page.getByRole('tab', { name: 'Timeline' }).click();
    await app.page.getByLabel('Snapshot name').fill('clean');
    await app.page.getByLabel('Snapshot note').fill('fresh from firmware');
    await app.page.getByRole('button', { name: 'Take snapshot' }).click();
    await app.page.locator('li[data-snapshot="clean"].memory').waitFor({ timeout: 30_000 });
    await app.page.getByLabel('Snapshot name').fill('later');
    await app.page.getByRole('button', { name: 'Take snapshot' }).click();
    await app.page.locator('li[data-snapshot="later"]').waitFor({ timeout: 30_000 });
    expect(await app.page.locator('li[data-snapshot]').evaluateAll((els) => els.map((e) => e.getAttribute('data-snapshot')))).toEqual(['clean', 'later']);
    await app.page.getByRole('button', { name: 'Revert to clean' }).click();
    await app.page.getByRole('alertdialog').waitFor();
    await shot('snapshots');
    await app.page.getByRole('button', { name: 'Revert', exact: true }).click();
    await app.page.getByText(/^Reverting to snapshot/).waitFor({ state: 'detached', timeout: 30_000 });
    expect(await app.page.locator('.snapshots .error').count()).toBe(0);
    expect((await app.api.call('snapshot.list', { vm: 'web' })).map((s) => [s.name, s.hasMemory])).toEqual([['clean', true], ['later', true]]);

    await app.page.getByRole('button', { name: 'Back to the VM list' }).click();
    const row = app.page.locator('tr[data-vm="web"]');
    expect(await row.getByTestId('state').textContent()).toBe('running');
    await shot('vm-list');
    await app.page.emulateMedia({ colorScheme: 'dark' });
    await shot('vm-list-dark');
    await app.page.emulateMedia({ colorScheme: 'light' });

    await app.page.getByRole('button', { name: 'Stop web' }).click();
    await row.getByTestId('state').filter({ hasText: 'stopped' }).waitFor({ timeout: 30_000 });
    expect((await app.api.call('vm.info', { name: 'web' })).summary.state).toBe('stopped');
  });

  it('answers a firewall prompt raised by a real SOCKS connection with a click, and the connection then succeeds', async () => {
    const web = createServer((_req, res) => res.end('through the firewall\n'));
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
    const port = (web.address() as AddressInfo).port;
    try {
      await app.api.call('vm.start', { name: 'web' });
      await app.page.goto(app.server.url);
      await app.page.locator('tr[data-vm="web"]').waitFor();
      // What a guest connection becomes after redsocks: a SOCKS5 CONNECT on the VM's proxy socket.
      const curl = spawn('curl', ['-sS', '--max-time', '60', '--proxy', `socks5h://localhost${app.home.paths.vm('web').proxySocket}`, `http://host.xray.internal:${port}/`]);
      let body = '';
      curl.stdout.on('data', (d) => (body += d));
      const exited = new Promise<number>((resolve) => curl.on('exit', (code) => resolve(code ?? -1)));
      const dialog = app.page.getByRole('alertdialog');
      await dialog.getByText(`web wants to connect to host.xray.internal:${port}`).waitFor({ timeout: 30_000 });
      await dialog.getByRole('button', { name: 'Allow', disabled: false }).waitFor();
      await shot('firewall-prompt-live');
      await dialog.getByRole('radio', { name: 'Forever' }).check();
      await dialog.getByRole('button', { name: /Allow/ }).click();
      expect(await exited).toBe(0);
      expect(body).toBe('through the firewall\n');
      await dialog.waitFor({ state: 'detached' });
      const rules = await app.api.call('firewall.rules', { vm: 'web' });
      expect(rules).toContainEqual(expect.objectContaining({ action: 'allow', lifetime: { kind: 'forever' }, target: { kind: 'domain', domain: 'host.xray.internal', port } }));
    } finally {
      web.close();
      await app.api.call('vm.stop', { name: 'web', force: true });
    }
  });
});

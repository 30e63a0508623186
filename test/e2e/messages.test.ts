// Xray's own warnings in the window, in Chromium over a real supervisor
// running real QEMU: another program sits on a VM's SSH port, the user clicks
// Start, and the window says the VM moved to another port until the user
// dismisses it. Repeats and errors are tested in test/component/messages.test.tsx.
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasChromium, SCREENSHOTS } from './helpers';
import { supervisedAppSuite } from './supervised-app';

const app = supervisedAppSuite({
  prefix: 'xray-e2e-messages-',
  config: 'stop_timeout = 1\n',
  vms: ['web'],
  page: { viewport: { width: 1000, height: 700 }, colorScheme: 'light' },
});
let squatter: Server | undefined;

afterAll(() => squatter?.close());

/** squat listens on 127.0.0.1:port, as another program holding the VM's SSH port would. */
function squat(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe.runIf(hasChromium)("Xray's messages in the window", () => {
  it('says a started VM moved off a busy SSH port, until dismissed', async () => {
    const busy = (await app.api.call('vm.info', { name: 'web' })).summary.sshPort;
    squatter = await squat(busy);
    await app.page.goto(app.server.url);
    await app.page.locator('tr[data-vm="web"]').getByRole('button', { name: 'web', exact: true }).click();
    await app.page.getByRole('button', { name: 'Start', exact: true }).click();

    const messages = app.page.getByRole('region', { name: 'Messages from Xray' });
    const moved = messages.getByRole('status').filter({ hasText: `SSH port ${busy} is busy` });
    await moved.waitFor({ timeout: 30_000 });
    const now = (await app.api.call('vm.info', { name: 'web' })).summary.sshPort;
    expect(now).not.toBe(busy);
    expect(await moved.textContent()).toContain(`so VM "web" now uses ${now};`);
    // The Overview's SSH line follows the move.
    await app.page.getByText(`ssh -p ${now} `).waitFor({ timeout: 10_000 });
    await app.page.screenshot({ path: join(SCREENSHOTS, 'messages.png') });

    await moved.getByRole('button', { name: 'Dismiss' }).click();
    await moved.waitFor({ state: 'detached' });
    await app.api.call('vm.stop', { name: 'web', force: true });
  }, 120_000);
});

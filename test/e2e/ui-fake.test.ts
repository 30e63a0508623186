// The real renderer in Chromium over an XrayApi with made-up data, for what the
// engine cannot show here: a queue of firewall questions (the supervisor does
// not raise them yet) and the benchmark with 500 VMs.
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrowserServer } from '../../src-main/browser/server';
import { prompt, vm } from '../component/fake-client';
import { buildRenderer, hasChromium, launchChromium, SCREENSHOTS, TableApi } from './helpers';

let renderer: { dir: string; cleanup: () => Promise<void> };
let browser: Browser;

beforeAll(async () => {
  renderer = await buildRenderer();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await renderer?.cleanup();
});

describe.runIf(hasChromium)('renderer in Chromium with made-up data', () => {
  it('shows queued firewall questions (screenshot for the docs)', async () => {
    const later = new Date(Date.now() + 27_000).toISOString();
    const api = new TableApi({
      'vm.list': [vm('dev', { state: 'ready', firewallActive: true, openConnections: 2, pendingPrompts: 2 })],
      'base.list': [],
      'prompt.list': [
        prompt('p1', { deadline: later, guestProcess: { pid: 812, command: 'curl https://www.example.com/', user: 'ubuntu' } }),
        prompt('p2', { destination: { ip: '140.82.112.3', port: 22, name: 'github.com', nameSource: 'sni', service: 'ssh' } }),
      ],
      'firewall.log': [
        { at: new Date().toISOString(), vm: 'dev', kind: 'decision', destination: { ip: '151.101.2.132', port: 443, name: 'deb.debian.org', nameSource: 'dns', service: 'https' }, action: 'allow', reason: 'default rule' },
      ],
    });
    const server = await startBrowserServer({ api, rendererDir: renderer.dir });
    const page = await browser.newPage({ viewport: { width: 1100, height: 680 }, colorScheme: 'light' });
    try {
      await page.goto(server.url);
      const dialog = page.getByRole('alertdialog');
      await dialog.getByText('Recent decisions for dev').waitFor();
      await dialog.getByRole('button', { name: 'Allow', disabled: false }).waitFor();
      expect(await page.getByLabel('Waiting questions').textContent()).toContain('dev → github.com:22');
      await page.screenshot({ path: join(SCREENSHOTS, 'firewall-prompt.png') });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: join(SCREENSHOTS, 'firewall-prompt-dark.png') });
    } finally {
      await page.close();
      await server.close();
    }
  });

  it('signs in through the private file the CLI opens: the token leaves the address bar and a reload still works', async () => {
    const api = new TableApi({ 'vm.list': [vm('dev')], 'base.list': [], 'prompt.list': [] });
    const server = await startBrowserServer({ api, rendererDir: renderer.dir });
    const page = await browser.newPage();
    try {
      await page.goto(`file://${await server.openFile()}`);
      await page.locator('tr[data-vm="dev"]').waitFor();
      expect(page.url()).toBe(`${new URL(server.url).origin}/`);
      await page.reload();
      await page.locator('tr[data-vm="dev"]').waitFor();
      expect(page.url()).not.toContain(server.token);
    } finally {
      await page.close();
      await server.close();
    }
  });

  it('renders 500 VMs and changes only one row when one VM changes state', async () => {
    const names = Array.from({ length: 500 }, (_, i) => `vm-${String(i).padStart(3, '0')}`);
    const api = new TableApi({ 'vm.list': names.map((n, i) => vm(n, { sshPort: 2200 + i })), 'base.list': [], 'prompt.list': [] });
    const server = await startBrowserServer({ api, rendererDir: renderer.dir });
    const page = await browser.newPage({ viewport: { width: 1100, height: 680 } });
    try {
      // Render time is measured in bench/render.ts; this checks what a user sees.
      await page.goto(server.url);
      await page.locator('tr[data-vm="vm-499"]').waitFor({ state: 'attached' });
      expect(await page.locator('tr[data-vm]').count()).toBe(500);
      await page.evaluate(() => {
        const changed = new Set<string>();
        (window as unknown as { changedRows: Set<string> }).changedRows = changed;
        new MutationObserver((records) => {
          for (const r of records) {
            const node = r.target instanceof Element ? r.target : r.target.parentElement;
            changed.add(node?.closest('tr[data-vm]')?.getAttribute('data-vm') ?? 'outside a row');
          }
        }).observe(document.querySelector('.vm-table tbody')!, { subtree: true, childList: true, characterData: true, attributes: true });
      });
      await api.subscribed();
      api.emit({ type: 'vm.state', vm: 'vm-250', state: 'starting', previous: 'stopped' });
      await page.locator('tr[data-vm="vm-250"] [data-testid="state"]', { hasText: 'starting' }).waitFor();
      const changed = await page.evaluate(() => [...(window as unknown as { changedRows: Set<string> }).changedRows]);
      expect(changed).toEqual(['vm-250']);
      await page.screenshot({ path: join(SCREENSHOTS, 'vm-list-500.png') });
    } finally {
      await page.close();
      await server.close();
    }
  });
});

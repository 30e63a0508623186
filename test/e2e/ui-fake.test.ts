// The real renderer in Chromium over an XrayApi with made-up data, for what the
// engine cannot show here: a queue of firewall questions (the supervisor does
// not raise them yet), the benchmark with 500 VMs, and screenshots of a VM's
// timeline, rules and hook runs and of an image being got, with a history no
// test guest makes.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBrowserServer } from '../../src-main/browser/server';
import type { FirewallRule } from '../../src-main/shared/models';
import { base, prompt, vm } from '../component/fake-client';
import { sampleSnapshots, sampleTimeline } from '../component/timeline-samples';
import { browserSuite, hasChromium, SCREENSHOTS, TableApi } from './helpers';

const suite = browserSuite();

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
    const server = await startBrowserServer({ api, rendererDir: suite.renderer.dir });
    const page = await suite.browser.newPage({ viewport: { width: 1100, height: 680 }, colorScheme: 'light' });
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

  it('shows a VM\'s timeline, its rules and its hook runs (screenshots for the docs)', async () => {
    const dev = vm('dev', { state: 'ready', firewallActive: true, openConnections: 3 });
    const rule = (id: string, target: FirewallRule['target'], over: Partial<FirewallRule> = {}): FirewallRule => ({ id, target, action: 'allow', lifetime: { kind: 'forever' }, source: 'vm', ...over });
    const api = new TableApi({
      'vm.list': [dev],
      'base.list': [base('debian-12')],
      'prompt.list': [],
      'vm.info': { summary: dev, config: {}, diskChain: [], snapshots: sampleSnapshots, autoSnapshots: { enabled: false, fromDefault: true, keep: 5 } },
      'snapshot.list': sampleSnapshots,
      'vm.timeline': sampleTimeline,
      'firewall.rules': [
        rule('pypi.org:443', { kind: 'domain', domain: 'pypi.org', port: 443 }),
        rule('*.github.com', { kind: 'domain-suffix', domain: 'github.com', port: null }, { lifetime: { kind: 'duration', until: new Date(Date.now() + 3_600_000).toISOString() } }),
        rule('evil.example', { kind: 'domain', domain: 'evil.example', port: null }, { action: 'deny', lifetime: { kind: 'until-stop' }, source: 'session' }),
        rule('default:*.debian.org', { kind: 'domain-suffix', domain: 'debian.org', port: null }, { source: 'default' }),
      ],
      'firewall.log': [],
      'firewall.connections': [
        {
          id: 7,
          destination: { ip: '140.82.121.6', port: 443, name: 'api.github.com', nameSource: 'sni', service: 'https' },
          state: 'relaying',
          bytesUp: 18_432,
          bytesDown: 1_572_864,
          openedAt: new Date(Date.now() - 95_000).toISOString(),
          reason: 'rule *.github.com',
          rule: '*.github.com',
        },
      ],
      'port.listening': [{ port: 22, addresses: ['0.0.0.0', '::'], program: 'sshd', reachable: true }],
      'vm.console': { stream: null, end: 0, text: '' },
      'hooks.list': [{ type: 'boot', script: '10-setup.sh', source: 'vm' }],
      'hooks.runs': [
        { run: { vm: 'dev', type: 'initial-boot', script: 'firewall-setup', source: 'built-in', startedAt: '2025-03-01T09:58:30Z', finishedAt: '2025-03-01T09:58:33Z', exitCode: 0, error: null }, durationMs: 3100, output: [{ stream: 'stdout', text: 'redirecting TCP through 10.0.2.100:1080' }] },
        { run: { vm: 'dev', type: 'boot', script: '10-setup.sh', source: 'vm', startedAt: '2025-03-01T10:44:58Z', finishedAt: '2025-03-01T10:45:00Z', exitCode: 1, error: 'exited with code 1' }, durationMs: 1200, output: [{ stream: 'stdout', text: 'installing tools' }, { stream: 'stderr', text: 'E: Unable to locate package ripgrepp' }] },
      ],
      'plugin.list': [],
    });
    const server = await startBrowserServer({ api, rendererDir: suite.renderer.dir });
    const page = await suite.browser.newPage({ viewport: { width: 1100, height: 680 }, colorScheme: 'light' });
    try {
      await page.goto(server.url);
      await page.locator('tr[data-vm="dev"]').getByRole('button', { name: 'dev', exact: true }).click();
      await page.getByRole('tab', { name: 'Timeline' }).click();
      await page.getByText('denied evil.example:443 (asked)').click();
      await page.getByRole('button', { name: /the last snapshot before this/ }).waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, 'timeline.png') });
      await page.getByRole('tab', { name: 'Firewall' }).click();
      await page.locator('tr[data-rule="pypi.org:443"]').waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, 'firewall-rules.png') });
      await page.getByRole('tab', { name: 'Hooks' }).click();
      await page.getByLabel('Output of 10-setup.sh').waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, 'hook-runs.png') });
    } finally {
      await page.close();
      await server.close();
    }
  });

  it('offers the catalog on first run and shows an image being got (screenshot for the docs)', async () => {
    const catalog = (['aarch64', 'x86_64'] as const).flatMap((arch) =>
      [['debian-12', 'Debian 12 (bookworm)'], ['debian-13', 'Debian 13 (trixie)'], ['ubuntu-24.04', 'Ubuntu 24.04 LTS']].map(([name, title]) => ({ name: name!, arch, title: title!, url: `https://example.org/${name}`, imported: false })),
    );
    const api = new TableApi({ 'vm.list': [], 'base.list': [], 'prompt.list': [], 'base.catalog': catalog, 'base.pull': () => new Promise(() => undefined) });
    const server = await startBrowserServer({ api, rendererDir: suite.renderer.dir });
    const page = await suite.browser.newPage({ viewport: { width: 1100, height: 680 }, colorScheme: 'light' });
    try {
      await page.goto(server.url);
      await page.getByRole('button', { name: 'Get Debian 12 (bookworm) for Intel or AMD (x86_64)' }).click();
      await api.subscribed();
      api.emit({ type: 'base.progress', name: 'debian-12', phase: 'download', done: 143 * 2 ** 20, total: 412 * 2 ** 20, bytesPerSecond: 11.6 * 2 ** 20 });
      await page.getByText(/about 23 s left/).waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, 'catalog-download.png') });
    } finally {
      await page.close();
      await server.close();
    }
  });

  it('signs in through the private file the CLI opens: the token leaves the address bar and a reload still works', async () => {
    const api = new TableApi({ 'vm.list': [vm('dev')], 'base.list': [], 'prompt.list': [] });
    const server = await startBrowserServer({ api, rendererDir: suite.renderer.dir });
    const page = await suite.browser.newPage();
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
    const server = await startBrowserServer({ api, rendererDir: suite.renderer.dir });
    const page = await suite.browser.newPage({ viewport: { width: 1100, height: 680 } });
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

// The timeline's two actions in Chromium, with real clicks and keys, over a
// made-up XrayApi that records the calls: going back to the last snapshot
// before an event, and revoking the rule that allowed a connection.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startBrowserServer } from '../../src-main/browser/server';
import { base, vm } from '../component/fake-client';
import { sampleSnapshots, sampleTimeline } from '../component/timeline-samples';
import { browserSuite, hasChromium, TableApi } from './helpers';

const suite = browserSuite();

/**
 * openTimeline serves VM "dev" with the sample timeline and opens its
 * Timeline tab; its automatic snapshots follow config.toml (on, keeping 5)
 * until vm.update changes them.
 */
async function openTimeline(): Promise<{ api: TableApi; page: Page }> {
  const dev = vm('dev', { state: 'ready' });
  let autoSnapshots = { enabled: true, fromDefault: true, keep: 5 };
  const api = new TableApi({
    'vm.list': [dev],
    'vm.info': () => ({ summary: dev, config: {}, diskChain: [], snapshots: sampleSnapshots, autoSnapshots }),
    'vm.update': ({ autoSnapshots: next }: { autoSnapshots: boolean | null }) => {
      autoSnapshots = { enabled: next ?? true, fromDefault: next === null, keep: 5 };
      return dev;
    },
    'vm.timeline': sampleTimeline,
    'snapshot.list': sampleSnapshots,
    'snapshot.revert': null,
    'firewall.rules': [],
    'firewall.remove': null,
    'firewall.log': [],
    'base.list': [base('debian')],
    'prompt.list': [],
    'vm.console': { stream: null, end: 0, text: '' },
    'hooks.list': [],
    'hooks.runs': [],
    'plugin.list': [],
  });
  const server = await startBrowserServer({ api, rendererDir: suite.renderer.dir });
  suite.closeAfterTest(() => server.close());
  const page = await suite.browser.newPage({ viewport: { width: 1100, height: 680 } });
  suite.closeAfterTest(() => page.close());
  await page.goto(server.url);
  await page.locator('tr[data-vm="dev"]').getByRole('button', { name: 'dev', exact: true }).click();
  await page.getByRole('tab', { name: 'Timeline' }).click();
  await page.locator('li[data-now]').waitFor();
  return { api, page };
}

describe.runIf(hasChromium)('the timeline in Chromium', () => {
  it('goes back to the last snapshot before a denied connection: click the event, click Revert to…, confirm with Enter', async () => {
    const { api, page } = await openTimeline();
    await page.getByText('denied evil.example:443 (asked)').click();
    await page.getByRole('button', { name: 'Revert to “clean”, the last snapshot before this' }).click();
    const dialog = page.getByRole('alertdialog');
    expect(await dialog.textContent()).toContain('Revert dev to “clean”? Changes made since then are lost.');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => api.callsOf('snapshot.revert')).toEqual([{ vm: 'dev', name: 'clean' }]);
  });

  it('revokes the rule that allowed the newest connection: arrow up from the list, then click Revoke', async () => {
    const { api, page } = await openTimeline();
    await page.getByRole('region', { name: 'Timeline, oldest first' }).focus();
    await page.keyboard.press('ArrowUp');
    expect(await page.locator('li[aria-current="true"] .tl-text').textContent()).toBe('allowed pypi.org:443 (rule pypi.org:443)');
    await page.getByRole('button', { name: 'Revoke the rule that allowed this (pypi.org:443)' }).click();
    await page.getByRole('status').filter({ hasText: 'Rule pypi.org:443 revoked.' }).waitFor();
    expect(api.callsOf('firewall.remove')).toEqual([{ vm: 'dev', id: 'pypi.org:443' }]);
  });

  it('switches automatic snapshots off and back to what config.toml says, while the VM runs', async () => {
    const { api, page } = await openTimeline();
    const setting = page.getByLabel('Automatic snapshots');
    expect(await setting.locator('option:checked').textContent()).toBe('as config.toml says (on)');
    await page.getByText('the newest 5 are kept, and yours are never deleted').waitFor();
    await setting.selectOption('off');
    await page.getByText('None are taken; snapshots are yours alone.').waitFor();
    await setting.selectOption('default');
    await page.getByText('the newest 5 are kept').waitFor();
    expect(api.callsOf('vm.update')).toEqual([{ name: 'dev', autoSnapshots: false }, { name: 'dev', autoSnapshots: null }]);
  });
});

// Getting an image in Chromium, with real clicks, over a made-up XrayApi that
// records the calls and sends progress as the service would: the first-run
// catalog, a download's bytes, rate and time left, and cancel.
import { describe, expect, it } from 'vitest';
import { startBrowserServer } from '../../src-main/browser/server';
import type { CatalogEntry } from '../../src-main/shared/contract';
import { CallError } from '../../src-main/shared/transport';
import { browserSuite, hasChromium, TableApi } from './helpers';

const suite = browserSuite();

const catalog: CatalogEntry[] = (['aarch64', 'x86_64'] as const).map((arch) => ({
  name: 'debian-12',
  arch,
  title: 'Debian 12 (bookworm)',
  url: `https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-${arch === 'aarch64' ? 'arm64' : 'amd64'}.qcow2`,
  imported: false,
}));

const MiB = 2 ** 20;

describe.runIf(hasChromium)('getting an image in Chromium', () => {
  it('shows a download\'s bytes, rate and time left, and cancels it with a click', async () => {
    let cancelled: () => void = () => undefined;
    const api = new TableApi({
      'vm.list': [],
      'base.list': [],
      'prompt.list': [],
      'base.catalog': catalog,
      'base.pull': () =>
        new Promise<never>((_resolve, reject) => {
          cancelled = () => reject(new CallError('cancelled', 'The download of debian-12 was cancelled; nothing was kept.'));
        }),
      'base.cancel': () => {
        cancelled();
        return null;
      },
    });
    const server = await startBrowserServer({ api, rendererDir: suite.renderer.dir });
    const page = await suite.browser.newPage({ viewport: { width: 1100, height: 680 } });
    try {
      await page.goto(server.url);
      await page.getByRole('button', { name: 'Get Debian 12 (bookworm) for Intel or AMD (x86_64)' }).click();
      await expect.poll(() => api.callsOf('base.pull')).toEqual([{ source: 'debian-12', arch: 'x86_64' }]);
      await api.subscribed();
      api.emit({ type: 'base.progress', name: 'debian-12', phase: 'download', done: 100 * MiB, total: 400 * MiB, bytesPerSecond: 10 * MiB });
      const job = page.locator('[data-pull="debian-12"]');
      await job.getByText('Downloading Debian 12 (bookworm) for Intel or AMD (x86_64) — 100 MiB of 400 MiB · 10 MiB/s · about 30 s left').waitFor();
      expect(await job.locator('progress').evaluate((p: HTMLProgressElement) => p.value / p.max)).toBe(0.25);
      await job.getByRole('button', { name: 'Cancel getting Debian 12 (bookworm)' }).click();
      await job.waitFor({ state: 'detached' });
      expect(api.callsOf('base.cancel')).toEqual([{ name: 'debian-12' }]);
      expect(await page.getByRole('alert').count()).toBe(0);
      await page.getByRole('button', { name: 'Get Debian 12 (bookworm) for Intel or AMD (x86_64)' }).waitFor();
    } finally {
      await page.close();
      await server.close();
    }
  });
});

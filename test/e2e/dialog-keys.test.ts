// Every dialog in Chromium with real key presses: Tab and Shift+Tab stay
// inside, Esc cancels from wherever focus is, and focus goes back to what
// opened it; and the layout at 800×600: the VM table's Start/Stop buttons and
// the New VM dialog's buttons are whole and on top. Over a made-up XrayApi, so
// every call the renderer makes is on record.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Method } from '../../src-main/shared/contract';
import type { SnapshotInfo, VmSummary } from '../../src-main/shared/models';
import { startBrowserServer } from '../../src-main/browser/server';
import { base, vm } from '../component/fake-client';
import { browserSuite, hasChromium, TableApi } from './helpers';

const suite = browserSuite();

const snapshots: SnapshotInfo[] = [{ name: 'clean', date: '2025-01-01T08:00:00Z', vmStateSize: 0, hasMemory: false, description: null }];

/** open serves the renderer over a TableApi with `vms` and opens it in a page of the given size. */
async function open(vms: VmSummary[] = [vm('dev')], viewport = { width: 1100, height: 680 }): Promise<{ api: TableApi; page: Page }> {
  const answers: Partial<Record<Method, unknown>> = {
    'vm.list': vms,
    'vm.defaults': { memoryMb: 2048, cpus: 2, sshUser: 'ubuntu' },
    'vm.info': { summary: vms[0], config: {}, diskChain: [], snapshots, autoSnapshots: { enabled: false, fromDefault: true, keep: 5 } },
    'snapshot.list': snapshots,
    'base.list': [base('debian')],
    'prompt.list': [],
    'firewall.rules': [],
    'firewall.log': [],
    'vm.console': { stream: null, end: 0, text: '' },
    'hooks.list': [],
    'hooks.runs': [],
    'vm.timeline': [],
    'plugin.list': [],
  };
  const api = new TableApi(answers);
  const server = await startBrowserServer({ api, rendererDir: suite.renderer.dir });
  suite.closeAfterTest(() => server.close());
  const page = await suite.browser.newPage({ viewport });
  suite.closeAfterTest(() => page.close());
  await page.goto(server.url);
  await page.locator('tr[data-vm]').first().waitFor();
  return { api, page };
}

/** focused describes the focused element: which dialog it is in (or "outside") and what it is. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    const dialog = el.closest('[role="dialog"], [role="alertdialog"]');
    const where = dialog ? `in ${dialog.getAttribute('aria-labelledby')}` : 'outside';
    const name = el.getAttribute('aria-label') ?? el.closest('label')?.firstChild?.textContent?.trim() ?? el.textContent?.trim();
    return `${where}: ${el.tagName.toLowerCase()} ${name}`;
  });
}

/** presses presses `key` `times` times and describes where focus was after each. */
async function presses(page: Page, key: string, times: number): Promise<string[]> {
  const stops: string[] = [];
  for (let i = 0; i < times; i++) {
    await page.keyboard.press(key);
    stops.push(await focused(page));
  }
  return stops;
}

/** openNewVm opens the New VM dialog from the keyboard, as a user without a mouse would. */
async function openNewVm(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'New VM…' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('dialog', { name: 'New VM' }).waitFor();
}

/** openConfirm opens the Timeline tab of "dev" and asks to revert to "clean" from the keyboard. */
async function openConfirm(page: Page): Promise<void> {
  await page.locator('tr[data-vm="dev"]').getByRole('button', { name: 'dev', exact: true }).click();
  await page.getByRole('tab', { name: 'Timeline' }).click();
  await page.getByRole('button', { name: 'Revert to clean' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('alertdialog').waitFor();
}

/** wholeInView tells whether an element's box lies inside the page and inside `main`'s visible part, with nothing on top of its middle. */
async function wholeInView(page: Page, selector: string, viewport: { width: number; height: number }): Promise<boolean> {
  const box = await page.locator(selector).boundingBox();
  const main = await page.locator('main').boundingBox();
  if (!box || !main) return false;
  const inside = box.x >= main.x && box.y >= 0 && box.x + box.width <= Math.min(viewport.width, main.x + main.width) && box.y + box.height <= viewport.height;
  const onTop = await page.locator(selector).evaluate((el, at) => el.contains(document.elementFromPoint(at.x, at.y)), { x: box.x + box.width / 2, y: box.y + box.height / 2 });
  return inside && onTop;
}

describe.runIf(hasChromium)('dialog keys and the small window in Chromium', () => {
  it('keeps Tab and Shift+Tab inside the New VM dialog', async () => {
    const { page } = await open();
    await openNewVm(page);
    await page.keyboard.type('web');
    const cycle = [
      'in create-title: input Name',
      'in create-title: select Base image',
      'in create-title: input Memory (MB)',
      'in create-title: input CPUs',
      'in create-title: input SSH user',
      'in create-title: input Forwarded ports (host:guest, comma separated)',
      'in create-title: button Cancel',
      'in create-title: button Create',
    ];
    expect(await presses(page, 'Tab', 10)).toEqual([...cycle.slice(1), ...cycle.slice(0, 3)]);
    expect(await presses(page, 'Shift+Tab', 10)).toEqual([cycle[1], cycle[0], ...[...cycle].reverse()]);
  });

  it('closes the New VM dialog with Esc from every field it has, and gives focus back to New VM…', async () => {
    const { api, page } = await open();
    const fields = 7;
    for (let tabs = 0; tabs < fields; tabs++) {
      await openNewVm(page);
      await presses(page, 'Tab', tabs);
      await page.keyboard.press('Escape');
      expect(await page.getByRole('dialog').count()).toBe(0);
      expect(await focused(page)).toBe('outside: button New VM…');
    }
    expect(api.callsOf('vm.create')).toEqual([]);
  });

  it('keeps Tab and Shift+Tab inside the snapshot confirmation', async () => {
    const { page } = await open();
    await openConfirm(page);
    expect(await focused(page)).toBe('in confirm-question: button Revert');
    const cycle = ['in confirm-question: button Cancel', 'in confirm-question: button Revert'];
    expect(await presses(page, 'Tab', 4)).toEqual([...cycle, ...cycle]);
    expect(await presses(page, 'Shift+Tab', 3)).toEqual([cycle[0], cycle[1], cycle[0]]);
  });

  it('cancels the snapshot confirmation with Esc, reverting nothing, and gives focus back to its button', async () => {
    const { api, page } = await open();
    await openConfirm(page);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Escape');
    expect(await page.getByRole('alertdialog').count()).toBe(0);
    expect(await focused(page)).toBe('outside: button Revert to clean');
    expect(api.callsOf('snapshot.revert')).toEqual([]);
  });

  it('shows every VM\'s Start, Stop or Force stop button whole at 800×600', async () => {
    const viewport = { width: 800, height: 600 };
    const vms = [
      vm('build-runner', { state: 'crashed' }),
      vm('db'),
      vm('stuck-stopping', { state: 'stopping' }),
      vm('nohyphensinthisnamewhatsoeverbutitisstilllongerthanthecellwidth', { base: 'debian-12-genericcloud-arm64-20250101', memoryMb: 16384, cpus: 16 }),
      vm('web-frontend-01', { state: 'ready', ports: [{ host: 8080, guest: 80 }, { host: 8443, guest: 443 }, { host: 15432, guest: 5432 }], openConnections: 12 }),
    ];
    const { page } = await open(vms, viewport);
    for (const v of vms) {
      const action = v.state === 'ready' ? 'Stop' : v.state === 'stopping' ? 'Force stop' : 'Start';
      expect(await wholeInView(page, `tr[data-vm="${v.name}"] button[aria-label="${action} ${v.name}"]`, viewport), `${action} ${v.name}`).toBe(true);
    }
  });

  it('shows the New VM dialog\'s Cancel and Create whole at 800×600', async () => {
    const viewport = { width: 800, height: 600 };
    const { page } = await open([vm('dev')], viewport);
    await openNewVm(page);
    for (const name of ['Cancel', 'Create']) {
      const box = await page.getByRole('dialog').getByRole('button', { name, exact: true }).boundingBox();
      expect(box).not.toBeNull();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.y).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(viewport.width);
      expect(box!.y + box!.height).toBeLessThanOrEqual(viewport.height);
    }
  });
});

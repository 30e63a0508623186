// The firewall prompt in Chromium with real key presses and clicks: an answer
// is only ever what the user meant (Enter on the focused button, Esc denies,
// nothing during the arming delay), focus stays in the prompt and comes back
// after, the answer buttons fit a small window, and an abandoned prompt gives
// way to the next with a notice. Over a made-up XrayApi, so every answer the
// renderer sends is on record.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Method } from '../../src-main/shared/contract';
import type { FirewallPrompt } from '../../src-main/shared/models';
import { startBrowserServer } from '../../src-main/browser/server';
import { ARMING_DELAY_MS } from '../../src-renderer/views/FirewallPrompt';
import { base, prompt, vm } from '../component/fake-client';
import { browserSuite, hasChromium, TableApi } from './helpers';

const suite = browserSuite();

const curl = { pid: 812, command: 'curl https://www.example.com/', user: 'ubuntu' };
const github = prompt('p2', { destination: { ip: '140.82.112.3', port: 22, name: 'github.com', nameSource: 'sni', service: 'ssh' } });

/** open serves the renderer over a TableApi with `prompts` waiting and opens it in a page of the given size. */
async function open(prompts: FirewallPrompt[], viewport = { width: 1100, height: 680 }, more: Partial<Record<Method, unknown>> = {}): Promise<{ api: TableApi; page: Page }> {
  const recent = ['deb.debian.org', 'security.debian.org', 'pypi.org', 'files.pythonhosted.org', 'registry.npmjs.org'].map((name, i) => ({
    at: new Date().toISOString(),
    vm: 'dev',
    kind: 'decision',
    destination: { ip: `151.101.2.${i + 1}`, port: 443, name, nameSource: 'dns', service: 'https' },
    action: i % 2 ? 'deny' : 'allow',
    reason: 'rule',
  }));
  const api = new TableApi({
    'vm.list': [vm('dev', { state: 'ready', firewallActive: true })],
    'base.list': [base('debian')],
    'prompt.list': prompts,
    'prompt.answer': null,
    'firewall.log': recent,
    ...more,
  });
  const server = await startBrowserServer({ api, rendererDir: suite.renderer.dir });
  suite.closeAfterTest(() => server.close());
  const page = await suite.browser.newPage({ viewport });
  suite.closeAfterTest(() => page.close());
  await page.goto(server.url);
  return { api, page };
}

/** armed waits until the shown prompt's arming delay is over and its buttons answer. */
async function armed(page: Page): Promise<void> {
  await page.getByRole('alertdialog').getByRole('button', { name: 'Allow', disabled: false }).waitFor();
}

/** gone waits until no prompt shows. */
async function gone(page: Page): Promise<void> {
  await page.getByRole('alertdialog').waitFor({ state: 'detached' });
}

/** focused describes the focused element: where it is and what it is. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    const where = el.closest('[role="alertdialog"]') ? 'prompt' : 'outside';
    if (el instanceof HTMLInputElement && el.type === 'radio') return `${where} radio ${el.name}=${el.value}`;
    if (el instanceof HTMLButtonElement) return `${where} button ${el.textContent}`;
    return `${where} ${el.getAttribute('role') ?? el.tagName.toLowerCase()}`;
  });
}

describe.runIf(hasChromium)('firewall prompt keys and clicks in Chromium', () => {
  it('denies when Enter is pressed on the focused Deny button', async () => {
    const { api, page } = await open([prompt('p1')]);
    await armed(page);
    expect(await focused(page)).toBe('prompt alertdialog');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('prompt button Deny Esc');
    await page.keyboard.press('Enter');
    await gone(page);
    expect(api.callsOf('prompt.answer')).toEqual([{ id: 'p1', action: 'deny', scope: 'host-port', lifetime: 'once' }]);
  });

  it('takes no keystroke meant for the field that had focus when it appeared, and gives focus back after', async () => {
    const { api, page } = await open([]);
    await page.getByRole('button', { name: 'New VM…' }).click();
    const ports = page.getByLabel('Forwarded ports');
    await ports.click();
    await page.keyboard.type('8080:80');
    await api.subscribed();
    api.emit({ type: 'prompt.opened', prompt: prompt('p1') });
    await page.getByRole('alertdialog').waitFor();
    await page.keyboard.press('Enter');
    await page.keyboard.type(', 1');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(ARMING_DELAY_MS + 200);
    expect(await page.getByRole('alertdialog').isVisible()).toBe(true);
    expect(api.callsOf('prompt.answer')).toEqual([]);
    expect(api.callsOf('vm.create')).toEqual([]);
    expect(await ports.inputValue()).toBe('8080:80');
    await page.keyboard.press('Escape');
    await gone(page);
    expect(api.callsOf('prompt.answer')).toEqual([{ id: 'p1', action: 'deny', scope: 'host-port', lifetime: 'once' }]);
    expect(await ports.evaluate((el) => el === document.activeElement)).toBe(true);
  });

  it('keeps Tab and Shift+Tab inside the prompt, and the window behind it out of reach', async () => {
    const { page } = await open([prompt('p1'), github]);
    await armed(page);
    const stops: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      stops.push(await focused(page));
    }
    const cycle = ['prompt radio scope=host-port', 'prompt radio lifetime=once', 'prompt button Deny Esc', 'prompt button Allow'];
    expect(stops).toEqual([...cycle, ...cycle]);
    const back: string[] = [];
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Shift+Tab');
      back.push(await focused(page));
    }
    expect(back).toEqual([cycle[2], cycle[1], cycle[0], cycle[3], cycle[2]]);
    expect(await page.locator('.app').getAttribute('inert')).toBe('');
    const newVm = await page.locator('button', { hasText: 'New VM…' }).boundingBox();
    await page.mouse.click(newVm!.x + newVm!.width / 2, newVm!.y + newVm!.height / 2);
    expect(await page.getByRole('dialog', { name: 'New VM' }).count()).toBe(0);
    expect(await focused(page)).toBe(cycle[2]);
  });

  it('denies with Esc, but not during the arming delay', async () => {
    const { api, page } = await open([prompt('p1')]);
    await page.getByRole('alertdialog').waitFor();
    await page.keyboard.press('Escape');
    expect(await page.getByRole('alertdialog').getByRole('button', { name: 'Allow' }).isDisabled()).toBe(true);
    await armed(page);
    expect(api.callsOf('prompt.answer')).toEqual([]);
    await page.keyboard.press('Escape');
    await gone(page);
    expect(api.callsOf('prompt.answer')).toEqual([{ id: 'p1', action: 'deny', scope: 'host-port', lifetime: 'once' }]);
  });

  it('ignores a click on Allow during the arming delay, then allows with the chosen scope and lifetime', async () => {
    const { api, page } = await open([prompt('p1')]);
    const allow = page.getByRole('alertdialog').getByRole('button', { name: 'Allow' });
    const box = await allow.boundingBox();
    await page.mouse.click(box!.x + box!.width / 2, box!.y + box!.height / 2);
    expect(await allow.isDisabled()).toBe(true);
    await armed(page);
    expect(api.callsOf('prompt.answer')).toEqual([]);
    await page.getByLabel('*.example.com, any port').click();
    await page.getByLabel('Until the VM stops').click();
    await allow.click();
    await gone(page);
    expect(api.callsOf('prompt.answer')).toEqual([{ id: 'p1', action: 'allow', scope: 'domain-suffix', lifetime: 'until-stop' }]);
  });

  for (const viewport of [{ width: 800, height: 600 }, { width: 1100, height: 680 }]) {
    it(`shows Allow and Deny whole and clickable at ${viewport.width}×${viewport.height}`, async () => {
      const waiting = prompt('p1', { guestProcess: curl, waitingConnections: 3 });
      const { api, page } = await open([waiting, github, prompt('p3', { vm: 'ci' })], viewport);
      const dialog = page.getByRole('alertdialog');
      await dialog.getByText('Recent decisions for dev').waitFor();
      await armed(page);
      for (const name of [/Deny/, /Allow/]) {
        const box = await dialog.getByRole('button', { name }).boundingBox();
        expect(box).not.toBeNull();
        expect(box!.x).toBeGreaterThanOrEqual(0);
        expect(box!.y).toBeGreaterThanOrEqual(0);
        expect(box!.x + box!.width).toBeLessThanOrEqual(viewport.width);
        expect(box!.y + box!.height).toBeLessThanOrEqual(viewport.height);
      }
      await dialog.getByRole('button', { name: 'Allow' }).click();
      await dialog.getByText('dev wants to connect to github.com:22').waitFor();
      await armed(page);
      await dialog.getByRole('button', { name: /Deny/ }).click();
      await dialog.getByText('ci wants to connect').waitFor();
      expect(api.callsOf('prompt.answer')).toEqual([
        { id: 'p1', action: 'allow', scope: 'host-port', lifetime: 'once' },
        { id: 'p2', action: 'deny', scope: 'host-port', lifetime: 'once' },
      ]);
    });
  }

  it('replaces a prompt abandoned by its program with a notice and the next prompt', async () => {
    const { api, page } = await open([prompt('p1', { guestProcess: curl }), github]);
    await armed(page);
    await api.subscribed();
    api.emit({ type: 'prompt.closed', id: 'p1', vm: 'dev', action: 'deny', reason: 'abandoned' });
    const notice = page.getByRole('status');
    await notice.getByText('dev: curl gave up on www.example.com:443 before you answered').waitFor();
    const dialog = page.getByRole('alertdialog');
    await dialog.getByText('dev wants to connect to github.com:22').waitFor();
    expect(await dialog.getByText('www.example.com').count()).toBe(0);
    expect(await dialog.getByRole('button', { name: 'Allow' }).isDisabled()).toBe(true);
    expect(await focused(page)).toBe('prompt alertdialog');
    await page.getByRole('button', { name: 'Dismiss' }).click();
    expect(await notice.textContent()).toBe('');
    expect(await focused(page)).toBe('prompt alertdialog');
    expect(api.callsOf('prompt.answer')).toEqual([]);
  });
});

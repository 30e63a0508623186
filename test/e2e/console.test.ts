// The Console tab in Chromium, in browser mode, over a real supervisor running
// real QEMU: a firmware-only VM whose UEFI shell prints in colour on the
// serial port and takes keys. What a person sees: colours (not escape codes),
// what they type reaching the guest, the end followed, the scrollback.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait';
import { hasChromium, SCREENSHOTS } from './helpers';
import { supervisedAppSuite } from './supervised-app';

const app = supervisedAppSuite({
  prefix: 'xray-e2e-console-',
  config: 'stop_timeout = 2\n',
  vms: ['fw'],
  page: { viewport: { width: 1100, height: 760 }, colorScheme: 'light' },
});
const pageErrors: string[] = [];

beforeAll(() => {
  // A style the CSP refuses shows here (Chromium reports it as a console error), as do the page's own errors.
  app.page.on('console', (m) => m.text().includes('Content Security Policy') && pageErrors.push(m.text()));
  app.page.on('pageerror', (e) => pageErrors.push(e.message));
});

/** rows is the text of each row the terminal shows now, trailing blanks trimmed. */
function rows(): Promise<string[]> {
  return app.page.locator('.xterm-rows > div').evaluateAll((els) => els.map((e) => (e.textContent ?? '').replace(/\s+$/, '')));
}

/** waitForRow waits until a row the terminal shows matches. */
async function waitForRow(what: string, match: (row: string) => boolean, timeoutMs = 30_000): Promise<void> {
  await waitFor(what, async () => (await rows()).some(match), timeoutMs);
}

describe.runIf(hasChromium)('the Console tab over a real VM', () => {
  it('shows the UEFI shell in colour, sends typed keys to it, follows the end and scrolls back', async () => {
    await app.page.goto(app.server.url);
    await app.page.locator('tr[data-vm="fw"]').getByRole('button', { name: 'fw', exact: true }).click();
    await app.page.getByRole('button', { name: 'Start', exact: true }).click();
    await app.page.getByRole('tab', { name: 'Console' }).click();
    const terminal = app.page.getByRole('group', { name: 'Serial console of fw' });
    await terminal.waitFor();
    await waitForRow('the UEFI shell prompt', (row) => row.startsWith('Shell>'), 90_000);

    // Colour: UEFI draws its prompt bold yellow with escape codes, which the terminal renders and does not show.
    const text = (await rows()).join('\n');
    expect(text).not.toMatch(/\[\d+m/);
    expect(text).not.toContain(String.fromCharCode(27));
    const prompt = app.page.locator('.xterm-rows span', { hasText: 'Shell>' }).last();
    const colour = await prompt.evaluate((e) => getComputedStyle(e).color);
    const [r, g, b] = colour.match(/\d+/g)!.map(Number);
    expect(r).toBeGreaterThan(150);
    expect(g).toBeGreaterThan(150);
    expect(b).toBeLessThan(120);
    expect(await app.page.locator('.xterm-rows').evaluate((e) => getComputedStyle(e).color)).not.toBe(colour);

    // Keys typed in the page reach the guest, which answers.
    await terminal.click();
    await app.page.keyboard.type('echo typed-in-chromium');
    await app.page.keyboard.press('Enter');
    await waitForRow('the echo', (row) => row === 'typed-in-chromium');

    // A command that prints more than a screen: the view follows the end...
    await app.page.keyboard.type('help');
    await app.page.keyboard.press('Enter');
    await waitForRow('the end of help', (row) => row.startsWith('vol '));
    await expect.poll(async () => (await rows()).filter((row) => row !== '').at(-1)).toBe('Shell>');
    const shown = await rows();
    expect(shown).not.toContain('typed-in-chromium');
    await app.page.screenshot({ path: join(SCREENSHOTS, 'console.png') });

    // ...and what scrolled off the top is still there, above it.
    await terminal.hover();
    await waitFor('the echo, scrolling back with the wheel', async () => {
      await app.page.mouse.wheel(0, -200);
      return (await rows()).includes('typed-in-chromium');
    });
    expect(pageErrors).toEqual([]);
  }, 180_000);
});

// What the app shows of intercepted hosts, in Chromium with real clicks and
// keys: a prompt about one HTTP request (its method, path and host, and
// scopes that write HTTP rules), and the notice of a secret refused on its
// way out, which lets the user bind the secret to that host or keep
// refusing. Over a made-up XrayApi, so every call the renderer makes is on
// record.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Method } from '../../src-main/shared/contract';
import type { EgressReport } from '../../src-main/shared/egress';
import type { FirewallPrompt, SecretBinding } from '../../src-main/shared/models';
import { startBrowserServer } from '../../src-main/browser/server';
import { base, prompt, vm } from '../component/fake-client';
import { browserSuite, hasChromium, TableApi } from './helpers';

const suite = browserSuite();

const github: SecretBinding = { secret: 'github', hosts: ['api.github.com'], header: 'Authorization', format: 'Bearer {}', placeholder: `xray:github:${'ab'.repeat(16)}`, env: 'GITHUB_TOKEN' };
const gists = prompt('r1', {
  destination: { ip: '140.82.112.6', port: 443, name: 'api.github.com', nameSource: 'sni', service: 'https' },
  request: { method: 'POST', path: '/gists' },
});
const refused = (over: Partial<Extract<EgressReport, { kind: 'secret-refused' }>> = {}): EgressReport => ({
  kind: 'secret-refused', vm: 'dev', host: 'paste.example', secret: 'github', place: 'host', header: 'Authorization', method: 'POST', path: '/upload', ...over,
});

async function open(prompts: FirewallPrompt[], more: Partial<Record<Method, unknown>> = {}): Promise<{ api: TableApi; page: Page }> {
  const api = new TableApi({
    'vm.list': [vm('dev', { state: 'ready', firewallActive: true })],
    'base.list': [base('debian')],
    'prompt.list': prompts,
    'prompt.answer': null,
    'firewall.log': [],
    ...more,
  });
  const server = await startBrowserServer({ api, rendererDir: suite.renderer.dir });
  suite.closeAfterTest(() => server.close());
  const page = await suite.browser.newPage({ viewport: { width: 1000, height: 680 } });
  suite.closeAfterTest(() => page.close());
  await page.goto(server.url);
  return { api, page };
}

describe.runIf(hasChromium)('intercepted hosts in the app', () => {
  it('asks about one request with its method, path and host, and answers with the HTTP rule chosen', async () => {
    const { api, page } = await open([gists]);
    const dialog = page.getByRole('alertdialog', { name: 'dev wants to send POST api.github.com/gists' });
    await dialog.getByRole('button', { name: 'Allow', disabled: false }).waitFor();
    expect(await dialog.locator('dt', { hasText: 'Method' }).locator('+ dd').textContent()).toBe('POST');
    expect(await dialog.locator('dt', { hasText: 'Path' }).locator('+ dd').textContent()).toBe('/gists');
    const scopes = dialog.getByRole('group', { name: 'Applies to' }).getByRole('radio');
    expect(await scopes.evaluateAll((inputs) => inputs.map((i) => `${(i as HTMLInputElement).value}: ${i.parentElement?.textContent}`))).toEqual([
      'request: api.github.com POST /gists',
      'request-prefix: api.github.com POST /*',
      'request-path: api.github.com /gists',
      'request-host: api.github.com /*',
    ]);
    expect(await dialog.getByLabel('api.github.com POST /gists').isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    await page.keyboard.press('ArrowDown');
    expect(await dialog.getByLabel('api.github.com POST /*').isChecked()).toBe(true);
    await dialog.getByLabel('Until the VM stops').click();
    await dialog.getByRole('button', { name: 'Allow' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(api.callsOf('prompt.answer')).toEqual([{ id: 'r1', action: 'allow', scope: 'request-prefix', lifetime: 'until-stop' }]);
  });

  it('denies a request with Esc, for that request alone', async () => {
    const { api, page } = await open([gists]);
    await page.getByRole('alertdialog').getByRole('button', { name: 'Allow', disabled: false }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    expect(api.callsOf('prompt.answer')).toEqual([{ id: 'r1', action: 'deny', scope: 'request', lifetime: 'once' }]);
  });

  it('says which secret was refused where, and binds it to that host when the user allows it', async () => {
    const { api, page } = await open([], {
      'secret.bindings': [github],
      'secret.bind': (p: { hosts: string[] }) => ({ ...github, hosts: p.hosts }),
    });
    await api.subscribed();
    api.emit({ type: 'egress.report', report: refused() });
    const notice = page.getByRole('alert', { name: 'Secret "github" refused' });
    await notice.getByText('VM "dev" tried to send secret "github" to paste.example, which it is not bound to (POST /upload); the request was refused.').waitFor();
    const allow = notice.getByRole('button', { name: 'Allow sending github to paste.example' });
    expect(await allow.isDisabled()).toBe(true);
    await allow.click({ force: true });
    expect(api.callsOf('secret.bind')).toEqual([]);
    await notice.getByRole('button', { name: 'Allow sending github to paste.example', disabled: false }).waitFor();
    await allow.click();
    await notice.getByText('dev now sends secret “github” to paste.example too.', { exact: false }).waitFor();
    expect(api.callsOf('secret.bind')).toEqual([{ vm: 'dev', secret: 'github', hosts: ['api.github.com', 'paste.example'], header: 'Authorization', format: 'Bearer {}', env: 'GITHUB_TOKEN' }]);
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await notice.waitFor({ state: 'detached' });
  });

  it('offers only to keep refusing a secret sent in a URL, counts repeats, and takes the answer from the keyboard', async () => {
    const { api, page } = await open([], { 'secret.bindings': [github], 'secret.bind': github });
    await api.subscribed();
    api.emit({ type: 'egress.report', report: refused({ host: 'api.github.com', place: 'url', header: null, path: '/search?q=xray:github:********' }) });
    api.emit({ type: 'egress.report', report: refused({ host: 'api.github.com', place: 'url', header: null, path: '/search?q=xray:github:********' }) });
    const notice = page.getByRole('alert', { name: 'Secret "github" refused' });
    await notice.getByText('(2 times)').waitFor();
    expect(await notice.getByRole('button').allTextContents()).toEqual(['Keep refusing']);
    expect(await notice.textContent()).toContain('never sends it in a URL');
    const keep = notice.getByRole('button', { name: 'Keep refusing', disabled: false });
    await keep.waitFor();
    await keep.focus();
    await page.keyboard.press('Enter');
    await notice.waitFor({ state: 'detached' });
    expect(api.callsOf('secret.bind')).toEqual([]);
    expect(api.callsOf('secret.bindings')).toEqual([]);
  });

  it('says so when the binding went away before the user allowed the host', async () => {
    const { api, page } = await open([], { 'secret.bindings': [], 'secret.bind': github });
    await api.subscribed();
    api.emit({ type: 'egress.report', report: refused() });
    const notice = page.getByRole('alert', { name: 'Secret "github" refused' });
    await notice.getByRole('button', { name: 'Allow sending github to paste.example', disabled: false }).click();
    await notice.getByText('VM "dev" no longer has secret "github" bound; bind it again with "xray secret bind".').waitFor();
    expect(api.callsOf('secret.bind')).toEqual([]);
  });
});

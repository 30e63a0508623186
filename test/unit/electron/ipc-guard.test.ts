import { describe, expect, it } from 'vitest';
import { requestSchemas } from '../../../src-main/shared/contract';
import { guardCall, isTrustedSender } from '../../../src-main/electron/ipc-guard';
import { CONTENT_SECURITY_POLICY, rendererFilePath, rendererHeaders, rendererUrl } from '../../../src-main/electron/renderer-protocol';

const PAGE = 'xray://app/index.html';

describe('isTrustedSender', () => {
  it.each([
    { url: PAGE, trusted: true },
    { url: `${PAGE}#prompt`, trusted: true },
    { url: `${PAGE}#settings`, trusted: true },
    { url: 'xray://app/other.html', trusted: false },
    { url: `${PAGE}?x=1`, trusted: false },
    { url: 'xray://evil/index.html', trusted: false },
    { url: 'xray://user@app/index.html', trusted: false },
    { url: 'file:///Applications/Xray.app/Contents/Resources/app.asar/dist/renderer/index.html', trusted: false },
    { url: 'https://example.com/index.html', trusted: false },
    { url: 'about:blank', trusted: false },
    { url: '', trusted: false },
    { url: null, trusted: false },
    { url: undefined, trusted: false },
  ])('$url → $trusted', ({ url, trusted }) => {
    expect(isTrustedSender(url)).toBe(trusted);
  });

  it('trusts every window the app opens', () => {
    for (const kind of ['main', 'prompt', 'settings'] as const) expect(isTrustedSender(rendererUrl(kind))).toBe(true);
  });
});

describe('guardCall', () => {
  it('refuses any request from a foreign page before looking at it', () => {
    expect(guardCall('https://example.com/', { method: 'vm.list', params: {} })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });

  it.each([
    { name: 'not an object', payload: 'vm.list' },
    { name: 'null', payload: null },
    { name: 'an array', payload: ['vm.list', {}] },
    { name: 'an unknown method', payload: { method: 'vm.format', params: {} } },
    { name: 'an inherited property as method', payload: { method: 'toString', params: {} } },
    { name: 'missing params', payload: { method: 'vm.start' } },
    { name: 'a path-like VM name of the wrong type', payload: { method: 'vm.start', params: { name: 42 } } },
    { name: 'a port out of range', payload: { method: 'port.add', params: { vm: 'web', mapping: { host: 70000, guest: 22 } } } },
  ])('refuses $name as invalid-argument, as every transport does', ({ payload }) => {
    expect(guardCall(PAGE, payload)).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
  });

  it('passes a valid call on with parsed params: defaults filled, unknown keys dropped', () => {
    expect(guardCall(PAGE, { method: 'prompt.answer', params: { id: 'p1', action: 'allow', evil: true } })).toEqual({
      ok: true,
      value: { method: 'prompt.answer', params: { id: 'p1', action: 'allow', lifetime: 'once' } },
    });
  });

  it('accepts every method of the contract', () => {
    for (const method of Object.keys(requestSchemas)) {
      const result = guardCall(PAGE, { method, params: {} });
      if (!result.ok) expect(result.error.message).toMatch(/^Bad request for /);
    }
  });
});

describe('rendererFilePath', () => {
  const root = '/app/dist/renderer';

  it.each([
    { url: 'xray://app/index.html', file: '/app/dist/renderer/index.html' },
    { url: 'xray://app/', file: '/app/dist/renderer/index.html' },
    { url: 'xray://app/app.js', file: '/app/dist/renderer/app.js' },
    { url: 'xray://app/index.html#prompt', file: '/app/dist/renderer/index.html' },
    { url: 'xray://app/fonts/a.woff2', file: '/app/dist/renderer/fonts/a.woff2' },
    // The URL parser resolves dot segments first, so these stay inside the root.
    { url: 'xray://app/../../etc/passwd', file: '/app/dist/renderer/etc/passwd' },
    { url: 'xray://app/%2e%2e/%2e%2e/etc/passwd', file: '/app/dist/renderer/etc/passwd' },
    { url: 'xray://app/..%2f..%2fetc/passwd', file: null },
    { url: 'xray://app/a%5c..%5csecret', file: null },
    { url: 'xray://app/.env', file: null },
    { url: 'xray://app/%00', file: null },
    { url: 'xray://other/index.html', file: null },
    { url: 'file:///app/dist/renderer/index.html', file: null },
  ])('$url → $file', ({ url, file }) => {
    expect(rendererFilePath(root, url)).toBe(file);
  });

  it('serves every file with the strict CSP and its real type', () => {
    expect(rendererHeaders('/r/app.js')).toEqual({
      'content-type': 'text/javascript; charset=utf-8',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
    });
    const directives = new Map(CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    expect(directives.get('default-src')).toBe("'none'");
    expect(directives.get('script-src')).toBe("'self'");
    expect(directives.get('connect-src')).toBe("'none'");
    // Inline styles only, for the console's terminal (xterm.js makes its own <style> elements).
    expect(directives.get('style-src')).toBe("'self' 'unsafe-inline'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|https?:|\*/);
  });
});

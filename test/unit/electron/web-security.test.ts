import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../../src-main/electron/renderer-protocol';
import { blocksRequest, grantsPermission, grantsPermissionCheck, rendererResponse, withPolicy } from '../../../src-main/electron/web-security';

let root: string;
let outside: string;

beforeAll(async () => {
  outside = await mkdtemp(join(tmpdir(), 'xray-web-'));
  root = join(outside, 'renderer');
  await mkdir(join(root, 'assets'), { recursive: true });
  await writeFile(join(root, 'index.html'), '<!doctype html><title>Xray</title>');
  await writeFile(join(root, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(join(outside, 'secret.txt'), 'not for the renderer');
});

afterAll(async () => {
  await rm(outside, { recursive: true, force: true });
});

describe('rendererResponse', () => {
  it('serves renderer files with their type and the CSP', async () => {
    const page = await rendererResponse(root, { url: 'xray://app/index.html', method: 'GET' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Xray</title>');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const script = await rendererResponse(root, { url: 'xray://app/assets/app.js', method: 'GET' });
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
  });

  it.each([
    { name: 'a file outside the build', url: 'xray://app/../secret.txt', method: 'GET' },
    { name: 'an encoded escape', url: 'xray://app/%2e%2e/secret.txt', method: 'GET' },
    { name: 'a missing file', url: 'xray://app/nope.js', method: 'GET' },
    { name: 'another host', url: 'xray://evil/index.html', method: 'GET' },
    { name: 'a POST', url: 'xray://app/index.html', method: 'POST' },
  ])('answers 404 to $name', async (request) => {
    const response = await rendererResponse(root, request);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('not for the renderer');
  });
});

describe('blocksRequest', () => {
  it.each([
    { url: 'xray://app/index.html', blocked: false },
    { url: 'devtools://devtools/bundled/inspector.html', blocked: false },
    { url: 'https://example.com/', blocked: true },
    { url: 'http://127.0.0.1:8080/', blocked: true },
    { url: 'file:///etc/passwd', blocked: true },
  ])('$url → blocked $blocked', ({ url, blocked }) => {
    expect(blocksRequest(url)).toBe(blocked);
  });
});

describe('permissions', () => {
  it('grants only clipboard writes, only to our renderer', () => {
    expect(grantsPermission('clipboard-sanitized-write', 'xray://app/index.html#settings')).toBe(true);
    expect(grantsPermission('clipboard-sanitized-write', 'https://example.com/')).toBe(false);
    expect(grantsPermission('media', 'xray://app/index.html')).toBe(false);
    expect(grantsPermissionCheck('clipboard-sanitized-write', 'xray://app')).toBe(true);
    expect(grantsPermissionCheck('clipboard-sanitized-write', 'https://example.com')).toBe(false);
    expect(grantsPermissionCheck('notifications', 'xray://app')).toBe(false);
  });
});

describe('withPolicy', () => {
  it('adds the CSP to every response, replacing none of the other headers', () => {
    expect(withPolicy({ 'x-a': ['1'] })).toEqual({ 'x-a': ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
    expect(withPolicy(undefined)).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] });
  });
});

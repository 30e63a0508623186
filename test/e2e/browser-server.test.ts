// The browser-mode server's guards: token, Host header, method names, uploads, events, static files.
import { request } from 'node:http';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Method, XrayApi, XrayEvent } from '../../src-main/shared/contract';
import { startBrowserServer, type BrowserServer, CONTENT_SECURITY_POLICY } from '../../src-main/browser/server';
import { XrayError } from '../../src-main/shared/errors';
import { waitFor } from '../helpers/wait';

class RecordingApi implements XrayApi {
  readonly calls: { method: Method; params: unknown }[] = [];
  readonly listeners = new Set<(e: XrayEvent) => void>();
  importedBytes: string | null = null;
  async call(method: Method, params: unknown): Promise<never> {
    this.calls.push({ method, params });
    if (method === 'vm.list') return [] as never;
    if (method === 'base.import') {
      this.importedBytes = await readFile((params as { path: string }).path, 'utf8');
      return { name: 'x' } as never;
    }
    throw new XrayError('not-found', 'There is no VM named "nope".');
  }
  subscribe(listener: (e: XrayEvent) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

let dir: string;
let api: RecordingApi;
let server: BrowserServer;
let port: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-bs-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>x</title>');
  await writeFile(join(dir, 'app.js'), 'void 0;');
  api = new RecordingApi();
  server = await startBrowserServer({ api, rendererDir: dir, maxUploadBytes: 1024 });
  port = Number(new URL(server.url).port);
});

afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function send(path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const call = (body: unknown, token = server.token) =>
  send('/api/call', { method: 'POST', headers: { 'x-xray-token': token, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('browser server', () => {
  it('listens on 127.0.0.1 with a 32-byte token in the URL fragment', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
  });

  it('forwards a call with the right token and returns the service\'s errors as JSON', async () => {
    expect(JSON.parse((await call({ method: 'vm.list', params: {} })).body)).toEqual({ ok: true, value: [] });
    expect(JSON.parse((await call({ method: 'vm.info', params: { name: 'nope' } })).body)).toEqual({ ok: false, error: { code: 'not-found', message: 'There is no VM named "nope".' } });
  });

  it('refuses calls without the token, with a wrong one, or to unknown methods', async () => {
    expect((await call({ method: 'vm.list', params: {} }, 'wrong')).status).toBe(401);
    expect((await send('/api/call', { method: 'POST', body: '{"method":"vm.list"}' })).status).toBe(401);
    const unknown = await call({ method: 'constructor', params: {} });
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body).error.code).toBe('invalid-argument');
    expect(api.calls.map((c) => c.method)).toEqual([]);
  });

  it('refuses a foreign Host header (DNS rebinding) even with the token', async () => {
    const r = await send('/api/call', { method: 'POST', headers: { host: `evil.example:${port}`, 'x-xray-token': server.token }, body: '{"method":"vm.list"}' });
    expect(r.status).toBe(403);
    expect((await send('/', { headers: { host: `localhost:${port}` } })).status).toBe(200);
  });

  it('serves the renderer with a strict CSP and nothing outside its directory', async () => {
    const page = await send('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect((await send('/app.js')).headers['content-type']).toContain('text/javascript');
    expect((await send('/..%2f..%2fetc%2fpasswd')).status).toBe(404);
    expect((await send('/../../etc/passwd')).status).toBe(404);
  });

  it('stores an upload, imports it from there, and removes it afterwards', async () => {
    const up = await send('/api/upload?name=../disk.qcow2', { method: 'POST', headers: { 'x-xray-token': server.token }, body: 'QFI\xfbpayload' });
    const { path } = JSON.parse(up.body).value as { path: string };
    expect(path).toMatch(/\/xray-upload-[^/]+\/u-[^/]+\/_disk\.qcow2$/);
    expect(path.startsWith(tmpdir())).toBe(true);
    await call({ method: 'base.import', params: { path, name: 'x', link: true } });
    expect(api.importedBytes).toBe('QFI\xfbpayload');
    expect(api.calls[0]!.params).toEqual({ path, name: 'x', link: false });
    await expect(readFile(path)).rejects.toThrow();
  });

  it('refuses an upload over the size cap and keeps nothing of it', async () => {
    const r = await send('/api/upload?name=big.qcow2', { method: 'POST', headers: { 'x-xray-token': server.token }, body: Buffer.alloc(4096) });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).error.message).toContain('import it with "xray base import PATH"');
    const uploadDirs = (await readdir(tmpdir())).filter((d) => d.startsWith('xray-upload-'));
    for (const d of uploadDirs) expect(await readdir(join(tmpdir(), d)).then((x) => x.filter((e) => e.startsWith('u-')).length).catch(() => 0)).toBe(0);
  });

  it('streams events to a client that gives the token in its header', async () => {
    const received = new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/events', headers: { 'x-xray-token': server.token } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          if (text.includes('data: ')) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    await waitFor('the event stream to subscribe', () => api.listeners.size > 0);
    for (const l of api.listeners) l({ type: 'vm.changed', vm: 'web' });
    expect(await received).toContain('data: {"type":"vm.changed","vm":"web"}\n\n');
  });

  it('never takes the token from the query string, where histories and logs keep it', async () => {
    expect((await send(`/api/events?token=${server.token}`)).status).toBe(401);
    expect((await send(`/api/call?token=${server.token}`, { method: 'POST', body: '{"method":"vm.list"}' })).status).toBe(401);
    expect(api.calls).toEqual([]);
  });

  it("refuses a POST from another site's page even with the token", async () => {
    const r = await send('/api/call', {
      method: 'POST',
      headers: { 'x-xray-token': server.token, origin: 'http://evil.example', 'content-type': 'application/json' },
      body: '{"method":"vm.list","params":{}}',
    });
    expect(r.status).toBe(403);
    expect(api.calls).toEqual([]);
    const own = await send('/api/call', { method: 'POST', headers: { 'x-xray-token': server.token, origin: `http://127.0.0.1:${port}` }, body: '{"method":"vm.list","params":{}}' });
    expect(JSON.parse(own.body)).toEqual({ ok: true, value: [] });
  });

  it('answers malformed percent-encoding with 400', async () => {
    expect((await send('/%E0%A4%A')).status).toBe(400);
  });

  it('opens a browser through a private file and a one-time address, never the token on a command line', async () => {
    const file = await server.openFile();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const page = await readFile(file, 'utf8');
    expect(page).not.toContain(server.token);
    const target = /url=(http:\/\/127\.0\.0\.1:\d+\/open\/[A-Za-z0-9_-]+)"/.exec(page)?.[1];
    expect(target).toBeDefined();
    const path = new URL(target as string).pathname;
    const first = await send(path);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe(`/#token=${server.token}`);
    expect((await send(path)).status).toBe(403);
  });
});

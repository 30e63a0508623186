// Runs in: plain Node (CLI). Browser mode: serves the renderer and a small
// HTTP bridge to the XrayApi on 127.0.0.1, guarded by a random token.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { XrayApi, XrayEvent } from '../shared/contract';
import { type Reply, callReply, parseCall } from '../shared/transport';
import { XrayError, isXrayError } from '../shared/errors';

/** MAX_CALL_BYTES bounds one API request body; requests are small JSON objects. */
const MAX_CALL_BYTES = 1024 * 1024;
/** DEFAULT_MAX_UPLOAD_BYTES bounds one uploaded image (disk images are large, but not unbounded). */
export const DEFAULT_MAX_UPLOAD_BYTES = 64 * 1024 ** 3;
const KEEPALIVE_MS = 15_000;
/** OPEN_CODE_TTL_MS is how long a one-time sign-in address from openFile stays valid. */
const OPEN_CODE_TTL_MS = 2 * 60_000;

/**
 * CSP allows only the bundled script and stylesheet and calls back to this
 * server; inline styles too, for the console's terminal (see the app's
 * CONTENT_SECURITY_POLICY in src-main/electron/renderer-protocol.ts).
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface BrowserServerOptions {
  readonly api: XrayApi;
  readonly rendererDir: string;
  /** port to listen on; 0 or absent picks a free one. */
  readonly port?: number;
  readonly maxUploadBytes?: number;
}

export interface BrowserServer {
  /** url opens the UI; the token travels in the fragment, so it never reaches logs or Referer headers. */
  readonly url: string;
  readonly token: string;
  /**
   * openFile writes a page, readable only by this user, that sends a browser
   * to a one-time address which signs it in: the way to open a browser
   * without putting a secret on its command line, where `ps` shows it to
   * every user. Returns the file's path.
   */
  openFile(): Promise<string>;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * startBrowserServer serves `rendererDir` and the API on 127.0.0.1. Every /api
 * request needs the token in the X-Xray-Token header: never in the query
 * string (histories, logs) and never in a cookie (cookies are shared by
 * every port of 127.0.0.1, so any local web server the browser visits would
 * be sent it). A custom header also keeps other sites out, as they cannot
 * send one without a CORS grant this server never gives. A Host header other
 * than this address is refused (DNS rebinding), and so is a POST whose
 * Origin is another site's.
 */
export async function startBrowserServer(options: BrowserServerOptions): Promise<BrowserServer> {
  const token = randomBytes(32).toString('base64url');
  const tokenDigest = createHash('sha256').update(token).digest();
  const maxUpload = options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const rendererDir = resolve(options.rendererDir);
  const uploadDir = await mkdtemp(join(tmpdir(), 'xray-upload-'));
  const uploads = new Set<string>();
  const streams = new Set<ServerResponse>();
  const openCodes = new Map<string, number>();
  let port = 0;

  const tokenMatches = (given: string | null | undefined): boolean => {
    if (!given) return false;
    return timingSafeEqual(createHash('sha256').update(given).digest(), tokenDigest);
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(JSON.stringify(body));
  };
  const sendError = (res: ServerResponse, err: unknown) => {
    // The API's own refusals travel as {ok: false} in a 200, like every transport's; anything else is the server's fault.
    const status = err instanceof HttpError ? err.status : isXrayError(err) ? 200 : 500;
    const code = err instanceof HttpError ? err.code : isXrayError(err) ? err.code : 'internal';
    const message = err instanceof Error ? err.message : String(err);
    if (res.headersSent) res.destroy();
    else sendJson(res, status, { ok: false, error: { code, message } });
  };

  const readBody = async (req: IncomingMessage): Promise<string> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_CALL_BYTES) throw new HttpError(413, 'invalid-argument', 'The request is too large.');
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  };

  const handleCall = async (req: IncomingMessage, res: ServerResponse) => {
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, 'invalid-argument', 'The request body is not JSON.');
    }
    const call = parseCall(body);
    if (!call.ok) return sendJson(res, 400, call);
    const uploaded = call.value.method === 'base.import' ? uploadOf(call.value.params) : null;
    let reply: Reply<unknown>;
    try {
      reply = await callReply(options.api, uploaded ? { method: call.value.method, params: { ...(call.value.params as object), link: false } } : call.value);
    } finally {
      if (uploaded) {
        uploads.delete(uploaded);
        await rm(dirname(uploaded), { recursive: true, force: true });
      }
    }
    sendJson(res, 200, reply);
  };

  /** uploadOf returns the import path when it is one of our uploads (it is removed once imported). */
  const uploadOf = (params: unknown): string | null => {
    const path = (params as { path?: unknown } | null)?.path;
    return typeof path === 'string' && uploads.has(path) ? path : null;
  };

  const handleUpload = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxUpload) {
      req.resume();
      throw new HttpError(413, 'invalid-argument', `The file is larger than ${Math.floor(maxUpload / 1024 ** 2)} MiB, the most browser mode accepts; import it with "xray base import PATH".`);
    }
    const name = (url.searchParams.get('name') ?? 'image').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.-]+/, '').slice(0, 100) || 'image';
    const dir = await mkdtemp(join(uploadDir, 'u-'));
    const path = join(dir, name);
    let size = 0;
    try {
      await pipeline(
        req,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            size += chunk.length;
            if (size > maxUpload) throw new HttpError(413, 'invalid-argument', `The file is larger than ${Math.floor(maxUpload / 1024 ** 2)} MiB, the most browser mode accepts; import it with "xray base import PATH".`);
            yield chunk;
          }
        },
        createWriteStream(path, { mode: 0o600 }),
      );
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    uploads.add(path);
    sendJson(res, 200, { ok: true, value: { path, size } });
  };

  const handleEvents = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
    res.write(': connected\n\n');
    streams.add(res);
    const unsubscribe = options.api.subscribe((event: XrayEvent) => {
      res.write(`data: ${JSON.stringify(event)}\n\n`);
    });
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    const stop = () => {
      clearInterval(keepalive);
      unsubscribe();
      streams.delete(res);
    };
    req.on('close', stop);
    res.on('close', stop);
  };

  /**
   * handleOpen lets a one-time address from openFile through once: the
   * browser is sent on to the UI with the token in the fragment, which
   * browsers keep to themselves, and the page moves it out of the address bar.
   */
  const handleOpen = (res: ServerResponse, code: string) => {
    const expires = openCodes.get(code);
    openCodes.delete(code);
    if (expires === undefined || expires < Date.now()) {
      throw new HttpError(403, 'invalid-argument', 'This sign-in address was used already or has expired; run "xray ui --browser" again or open the address it printed.');
    }
    res.writeHead(303, { location: `/#token=${token}`, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    res.end();
  };

  const serveStatic = async (res: ServerResponse, pathname: string) => {
    let relative: string;
    try {
      relative = pathname === '/' ? 'index.html' : decodeURIComponent(pathname.slice(1));
    } catch {
      throw new HttpError(400, 'invalid-argument', 'The address is not valid percent-encoding.');
    }
    const file = resolve(rendererDir, relative);
    const type = CONTENT_TYPES[extname(file)];
    if (!file.startsWith(rendererDir + sep) || !type) throw new HttpError(404, 'not-found', 'No such page.');
    let body: Buffer;
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      body = await readFile(file);
    } catch {
      throw new HttpError(404, 'not-found', relative === 'index.html' ? `The UI is not built (${file} is missing); run "npm run build".` : 'No such page.');
    }
    res.writeHead(200, {
      'content-type': type,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cache-control': 'no-cache',
    });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host;
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      throw new HttpError(403, 'invalid-argument', 'This server only answers to 127.0.0.1.');
    }
    const url = new URL(req.url ?? '/', `http://${host}`);
    const origin = req.headers.origin;
    if (req.method !== 'GET' && req.method !== 'HEAD' && origin !== undefined && origin !== `http://${host}`) {
      throw new HttpError(403, 'invalid-argument', 'Requests from other sites are refused.');
    }
    const open = /^\/open\/([A-Za-z0-9_-]{20,64})$/.exec(url.pathname);
    if (open && req.method === 'GET') return handleOpen(res, open[1] as string);
    if (!url.pathname.startsWith('/api/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'invalid-argument', 'Only GET is allowed here.');
      return serveStatic(res, url.pathname);
    }
    if (!tokenMatches(req.headers['x-xray-token'] as string | undefined)) {
      throw new HttpError(401, 'invalid-argument', 'The access token is missing or wrong; open the address the "xray ui" command printed.');
    }
    if (url.pathname === '/api/call' && req.method === 'POST') return handleCall(req, res);
    if (url.pathname === '/api/upload' && req.method === 'POST') return handleUpload(req, res, url);
    if (url.pathname === '/api/events' && req.method === 'GET') return handleEvents(req, res);
    throw new HttpError(404, 'not-found', 'No such API endpoint.');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, err));
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new XrayError('busy', `Port ${options.port} on 127.0.0.1 is in use; pick another with --port.`) : err),
    );
    server.listen(options.port ?? 0, '127.0.0.1', () => resolvePromise());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/#token=${token}`,
    token,
    async openFile() {
      const code = randomBytes(24).toString('base64url');
      openCodes.set(code, Date.now() + OPEN_CODE_TTL_MS);
      const file = join(await mkdtemp(join(uploadDir, 'open-')), 'open-xray.html');
      const target = `http://127.0.0.1:${port}/open/${code}`;
      await writeFile(
        file,
        `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta http-equiv="refresh" content="0;url=${target}"><title>Xray</title><p>Opening <a href="${target}">Xray</a>…</p>\n`,
        { mode: 0o600 },
      );
      return file;
    },
    async close() {
      for (const res of streams) res.end();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(uploadDir, { recursive: true, force: true });
    },
  };
}

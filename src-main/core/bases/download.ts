// Runs in: plain Node (core).
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { XrayError } from '../../shared/errors';
import { nodeCrypto } from '../builtins';

/** DownloadProgress is what a person watching a download wants to know. */
export interface DownloadProgress {
  readonly done: number;
  /** total is null while the server has not said how big the file is. */
  readonly total: number | null;
  readonly bytesPerSecond: number;
}

export interface DownloadOptions {
  readonly url: string;
  /** dest is the finished file; the bytes arrive in `dest.part` first, which a later call resumes. */
  readonly dest: string;
  /** algorithm is the hash the caller will compare (sha256, sha512); the digest covers the whole file. */
  readonly algorithm: 'sha256' | 'sha512';
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  /** stallMs ends a download that received nothing for this long (it can be resumed). */
  readonly stallMs?: number;
  readonly maxRedirects?: number;
}

export interface DownloadResult {
  readonly path: string;
  readonly size: number;
  /** digest is the file's hash, hex, in `algorithm`. */
  readonly digest: string;
}

const DEFAULT_STALL_MS = 30_000;
const DEFAULT_MAX_REDIRECTS = 10;
const PROGRESS_INTERVAL_MS = 250;

/** partPath is where a download's bytes wait until it is complete. */
export function partPath(dest: string): string {
  return `${dest}.part`;
}

/**
 * download fetches `url` into `dest` over HTTP(S), following redirects. An
 * earlier attempt's `dest.part` is resumed with a Range request (and started
 * over when the server answers with the whole file); the part stays when a
 * download is interrupted or stalls, so the next call picks it up, and is
 * deleted when the caller aborts (`signal`), when the server refuses, or
 * when the disk is full. The digest is computed on the way, the resumed
 * part included, so checking it costs no second read of the file.
 */
export async function download(opts: DownloadOptions): Promise<DownloadResult> {
  const part = partPath(opts.dest);
  let hash = nodeCrypto().createHash(opts.algorithm);
  let have = await sizeOf(part);
  if (have > 0) await hashFile(part, hash);
  try {
    const response = await get(opts.url, have > 0 ? { range: `bytes=${have}-` } : {}, opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS, opts.signal);
    if (have > 0 && response.statusCode !== 206 && response.statusCode !== 416) {
      // The server sent the whole file rather than the rest: take it from the start.
      have = 0;
      hash = nodeCrypto().createHash(opts.algorithm);
    }
    if (response.statusCode === 416) response.resume();
    else await receive(response, part, have, totalOf(response, have), hash, opts);
  } catch (err) {
    if (opts.signal?.aborted || !isResumable(err)) await rm(part, { force: true });
    throw err;
  }
  const size = await sizeOf(part);
  await rename(part, opts.dest);
  return { path: opts.dest, size, digest: hash.digest('hex') };
}

/** isResumable tells a failure after which the part is worth keeping (the connection broke or stalled) from one where it is not. */
function isResumable(err: unknown): boolean {
  return err instanceof XrayError && err.code === 'timeout';
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function hashFile(path: string, hash: Hash): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = createReadStream(path);
    stream.on('data', (chunk) => hash.update(chunk));
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
}

/** totalOf reads the whole file's size from a response (Content-Range for a resumed one), or null. */
function totalOf(response: IncomingMessage, have: number): number | null {
  const range = /\/(\d+)$/.exec(String(response.headers['content-range'] ?? ''));
  if (range) return Number(range[1]);
  const length = Number(response.headers['content-length']);
  return Number.isFinite(length) && length >= 0 ? have + length : null;
}

/** get requests `url`, following up to `redirects` redirects, and resolves with a 2xx response. */
function get(url: string, headers: Record<string, string>, redirects: number, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      reject(new XrayError('invalid-argument', `"${url}" is not a web address.`));
      return;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      reject(new XrayError('invalid-argument', `"${url}" is not an http or https address.`));
      return;
    }
    const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(parsed, { headers: { 'user-agent': 'xray', ...headers }, signal }, (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location) {
        response.resume();
        if (redirects <= 0) {
          reject(new XrayError('invalid-argument', `${parsed.origin} redirected too many times; the address may be wrong or the server misconfigured.`));
          return;
        }
        get(new URL(location, parsed).toString(), headers, redirects - 1, signal).then(resolve, reject);
        return;
      }
      // A resumed download that was already whole: the caller finds nothing more to read and checks the size.
      const wholeAlready = status === 416 && headers.range !== undefined;
      if ((status < 200 || status >= 300) && !wholeAlready) {
        response.resume();
        reject(new XrayError(status === 404 ? 'not-found' : 'unsupported', `${url} answered HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}; check the address.`));
        return;
      }
      resolve(response);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (signal?.aborted) reject(cancelled(url));
      else reject(new XrayError('timeout', `Could not reach ${parsed.host} (${err.code ?? err.message}); check the network and run the same command again to resume.`));
    });
    req.end();
  });
}

function cancelled(url: string): XrayError {
  return new XrayError('cancelled', `The download of ${url} was cancelled; nothing was kept.`);
}

/** receive appends a response's body to `part`, hashing it, reporting progress, and ending it when it stalls. */
async function receive(response: IncomingMessage, part: string, have: number, total: number | null, hash: Hash, opts: DownloadOptions): Promise<void> {
  const file = await open(part, have > 0 ? 'a' : 'w', 0o600);
  const started = Date.now();
  let done = have;
  let lastReport = 0;
  const report = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - lastReport < PROGRESS_INTERVAL_MS) return;
    lastReport = now;
    const seconds = Math.max((now - started) / 1000, 0.001);
    opts.onProgress?.({ done, total, bytesPerSecond: (done - have) / seconds });
  };
  const stallMs = opts.stallMs ?? DEFAULT_STALL_MS;
  let stalledOut = false;
  let stall = setTimeout(() => undefined, 0);
  const arm = (): void => {
    clearTimeout(stall);
    stall = setTimeout(() => {
      stalledOut = true;
      response.destroy();
    }, stallMs);
  };
  const brokeOff = (): XrayError =>
    new XrayError(
      'timeout',
      `The download of ${opts.url} ${stalledOut ? 'stalled' : 'broke off'} at ${done} of ${total ?? 'unknown'} bytes; run the same command again to resume.`,
    );
  try {
    arm();
    for await (const chunk of response as AsyncIterable<Buffer>) {
      arm();
      hash.update(chunk);
      await file.write(chunk).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOSPC' ? new XrayError('resource', 'The disk is full; free some space and pull again.') : err;
      });
      done += chunk.length;
      report(false);
    }
  } catch (err) {
    if (opts.signal?.aborted) throw cancelled(opts.url);
    if (err instanceof XrayError) throw err;
    throw brokeOff();
  } finally {
    clearTimeout(stall);
    await file.close();
  }
  report(true);
  if (stalledOut || (total !== null && done < total)) throw brokeOff();
}

/** MAX_TEXT_BYTES bounds a small text fetched whole (a checksums file). */
const MAX_TEXT_BYTES = 1024 * 1024;

/** fetchText gets a small text file over HTTP(S), following redirects. */
export async function fetchText(url: string, signal?: AbortSignal): Promise<string> {
  const response = await get(url, {}, DEFAULT_MAX_REDIRECTS, signal);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_TEXT_BYTES) {
      response.destroy();
      throw new XrayError('invalid-argument', `${url} is larger than a checksums file can be; check the address.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

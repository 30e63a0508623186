// Runs in: plain Node (core).
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { XrayError } from '../../shared/errors';
import { type DownloadProgress, download, partPath } from './download';
import { nodeCrypto } from '../builtins';

/**
 * mirrored rewrites a catalog address to go through a mirror: the mirror's
 * base, then the original host and path (`https://cloud.debian.org/a/b` →
 * `MIRROR/cloud.debian.org/a/b`). Tests point `image_mirror` at a local
 * server this way, so no test reaches the internet; an organisation can
 * point it at its own cache.
 */
export function mirrored(url: string, mirror: string | null): string {
  if (!mirror) return url;
  const original = new URL(url);
  return `${mirror.replace(/\/+$/, '')}/${original.host}${original.pathname}`;
}

/** fileNameOf is the last path segment of a URL, decoded ("My%20Image.qcow2" → "My Image.qcow2"). */
export function fileNameOf(url: string): string {
  const last = new URL(url).pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** Expected is the checksum an image must have: an algorithm and a hex digest. */
export interface Expected {
  readonly algorithm: 'sha256' | 'sha512';
  readonly digest: string;
}

/** algorithmOf tells SHA-256 from SHA-512 by the digest's length; null for anything else. */
export function algorithmOf(hex: string): Expected['algorithm'] | null {
  if (/^[0-9a-f]{64}$/i.test(hex)) return 'sha256';
  if (/^[0-9a-f]{128}$/i.test(hex)) return 'sha512';
  return null;
}

/**
 * checksumFor reads a SHA256SUMS / SHA512SUMS file ("HEX  NAME" or
 * "HEX *NAME" lines) and returns the entry for `fileName`, or null.
 */
export function checksumFor(text: string, fileName: string): Expected | null {
  for (const line of text.split('\n')) {
    const match = /^([0-9a-fA-F]{64}|[0-9a-fA-F]{128})\s+\*?(.+?)\s*$/.exec(line);
    if (!match || (match[2] !== fileName && match[2]?.split('/').pop() !== fileName)) continue;
    const digest = (match[1] as string).toLowerCase();
    return { algorithm: algorithmOf(digest) as Expected['algorithm'], digest };
  }
  return null;
}

export interface FetchImageOptions {
  readonly url: string;
  readonly expected: Expected | null;
  /** downloadsDir holds downloads under way (XRAY_HOME/cache/downloads); each URL has its own file, so an interrupted one resumes. */
  readonly downloadsDir: string;
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  readonly stallMs?: number;
}

/**
 * fetchImage downloads an image (resuming an interrupted download) and
 * checks it against its expected checksum before anyone imports it. A
 * mismatch deletes the file: the next try starts over. The caller imports
 * the returned file and deletes it.
 */
export async function fetchImage(opts: FetchImageOptions): Promise<string> {
  await mkdir(opts.downloadsDir, { recursive: true, mode: 0o700 });
  const dest = join(opts.downloadsDir, nodeCrypto().createHash('sha256').update(opts.url).digest('hex').slice(0, 24));
  const result = await download({
    url: opts.url,
    dest,
    algorithm: opts.expected?.algorithm ?? 'sha256',
    onProgress: opts.onProgress,
    signal: opts.signal,
    stallMs: opts.stallMs,
  });
  if (opts.expected && result.digest !== opts.expected.digest) {
    await rm(dest, { force: true });
    throw new XrayError(
      'corrupt',
      `${opts.url} does not match its ${opts.expected.algorithm.toUpperCase()} checksum (expected ${opts.expected.digest.slice(0, 16)}…, got ${result.digest.slice(0, 16)}…); it was deleted, nothing was imported.`,
    );
  }
  return dest;
}

/** discardDownload removes what an abandoned pull of `url` left in `downloadsDir`. */
export async function discardDownload(downloadsDir: string, url: string): Promise<void> {
  const dest = join(downloadsDir, nodeCrypto().createHash('sha256').update(url).digest('hex').slice(0, 24));
  await Promise.all([rm(dest, { force: true }), rm(partPath(dest), { force: true })]);
}

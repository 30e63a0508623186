// Runs in: plain Node (core).
import { mkdir, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { GuestArch } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { type DownloadProgress, download, partPath } from './download';

/**
 * CatalogImage is one official cloud image Xray knows how to get: where it
 * is, and where its vendor publishes the checksums that vouch for it.
 */
export interface CatalogImage {
  /** name is what `xray base pull NAME` takes and what the base is called. */
  readonly name: string;
  readonly arch: GuestArch;
  readonly title: string;
  readonly url: string;
  /** checksums is the vendor's SHA256SUMS / SHA512SUMS file listing the image. */
  readonly checksums: string;
}

const DEBIAN = 'https://cloud.debian.org/images/cloud';
const UBUNTU = 'https://cloud-images.ubuntu.com/releases';

/** IMAGE_CATALOG is the built-in list: Debian 12 and 13, Ubuntu 24.04 LTS, for both architectures. */
export const IMAGE_CATALOG: readonly CatalogImage[] = [
  ...(['aarch64', 'x86_64'] as const).flatMap((arch): CatalogImage[] => {
    const debianArch = arch === 'aarch64' ? 'arm64' : 'amd64';
    return [
      { name: 'debian-12', arch, title: 'Debian 12 (bookworm)', url: `${DEBIAN}/bookworm/latest/debian-12-genericcloud-${debianArch}.qcow2`, checksums: `${DEBIAN}/bookworm/latest/SHA512SUMS` },
      { name: 'debian-13', arch, title: 'Debian 13 (trixie)', url: `${DEBIAN}/trixie/latest/debian-13-genericcloud-${debianArch}.qcow2`, checksums: `${DEBIAN}/trixie/latest/SHA512SUMS` },
      { name: 'ubuntu-24.04', arch, title: 'Ubuntu 24.04 LTS', url: `${UBUNTU}/24.04/release/ubuntu-24.04-server-cloudimg-${debianArch}.img`, checksums: `${UBUNTU}/24.04/release/SHA256SUMS` },
    ];
  }),
];

/** findCatalogImage looks a name up for an architecture; null when the catalog has no such image. */
export function findCatalogImage(name: string, arch: GuestArch): CatalogImage | null {
  return IMAGE_CATALOG.find((image) => image.name === name && image.arch === arch) ?? null;
}

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
  const dest = join(opts.downloadsDir, createHash('sha256').update(opts.url).digest('hex').slice(0, 24));
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
  const dest = join(downloadsDir, createHash('sha256').update(url).digest('hex').slice(0, 24));
  await Promise.all([rm(dest, { force: true }), rm(partPath(dest), { force: true })]);
}

// `base.pull` against a local server standing in for the vendors (through the
// image_mirror setting): checksums, resume, and every way a download can go
// wrong, each leaving nothing behind.
import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createService } from '../../../src-main/core/bootstrap';
import { checksumFor, mirrored } from '../../../src-main/core/bases/pull';
import { hostArch } from '../../../src-main/core/host';
import type { XrayService } from '../../../src-main/core/service';
import type { XrayEvent } from '../../../src-main/shared/contract';
import { qemuImg } from '../../helpers/cli';
import { makeTestHome, type TestHome } from '../../helpers/home';
import { refusal } from '../../helpers/refusal';
import { waitFor } from '../../helpers/wait';

const ARCH = hostArch();
const DEBIAN_ARCH = ARCH === 'aarch64' ? 'arm64' : 'amd64';
const IMAGE_PATH = `/cloud.debian.org/images/cloud/bookworm/latest/debian-12-generic-${DEBIAN_ARCH}.qcow2`;
const SUMS_PATH = '/cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS';

/** Site is the stand-in vendor: what it serves, how it misbehaves, and what it was asked. */
interface Site {
  image: Buffer;
  sums: string;
  /** cutAfter ends the next image response after this many bytes, then clears itself. */
  cutAfter: number | null;
  /** stallAfter sends this many bytes and then nothing, without closing. */
  stallAfter: number | null;
  readonly requests: { path: string; range: string | null }[];
}

let home: TestHome;
let service: XrayService;
let server: Server;
let site: Site;
let base: string;
let events: XrayEvent[];

function serve(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  const range = req.headers.range ?? null;
  site.requests.push({ path, range });
  if (path === SUMS_PATH) return void res.end(site.sums);
  if (path === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
  if (path.startsWith('/files/text.qcow2')) return void res.end('not a disk image\n');
  if (path !== IMAGE_PATH && !path.startsWith('/files/')) return void res.writeHead(404).end();
  const from = range ? Number(/bytes=(\d+)-/.exec(range)?.[1] ?? 0) : 0;
  const body = site.image.subarray(from);
  res.writeHead(range ? 206 : 200, {
    'content-length': body.length,
    ...(range ? { 'content-range': `bytes ${from}-${site.image.length - 1}/${site.image.length}` } : {}),
  });
  if (site.stallAfter !== null) return void res.write(body.subarray(0, site.stallAfter));
  if (site.cutAfter !== null) {
    const cut = site.cutAfter;
    site.cutAfter = null;
    res.write(body.subarray(0, cut), () => res.socket?.destroy());
    return;
  }
  res.end(body);
}

beforeEach(async () => {
  home = await makeTestHome('xray-pull-');
  const file = join(home.root, 'source.qcow2');
  qemuImg(['create', '-q', '-f', 'qcow2', file, '4M']);
  const image = await readFile(file);
  site = { image, sums: `${createHash('sha512').update(image).digest('hex')}  ${IMAGE_PATH.split('/').pop()}\n`, cutAfter: null, stallAfter: null, requests: [] };
  server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await writeFile(home.paths.configFile, `image_mirror = "${base}"\n`);
  service = await createService(home.paths);
  events = [];
  service.subscribe((e) => events.push(e));
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await home.cleanup();
});

/** leftovers lists what pulls left in the downloads directory. */
async function leftovers(): Promise<string[]> {
  return readdir(join(home.paths.cacheDir, 'downloads')).catch(() => []);
}

describe('base.pull from the catalog', () => {
  it('downloads through the mirror, checks the vendor checksum, imports, and keeps nothing else', async () => {
    const info = await service.call('base.pull', { source: 'debian-12' });
    expect(info).toMatchObject({ name: 'debian-12', arch: ARCH, cloudInit: true, source: `https://cloud.debian.org${IMAGE_PATH.slice('/cloud.debian.org'.length)}` });
    expect(site.requests.map((r) => r.path)).toEqual([SUMS_PATH, IMAGE_PATH]);
    expect(await leftovers()).toEqual([]);
    expect(events.some((e) => e.type === 'base.progress' && e.phase === 'download' && e.done === site.image.length)).toBe(true);
    expect(events.at(-1)).toEqual({ type: 'base.changed' });
  });

  it('resumes an interrupted download where it broke off', async () => {
    site.cutAfter = Math.floor(site.image.length / 2);
    const first = await refusal(service.call('base.pull', { source: 'debian-12' }));
    expect(first.message).toMatch(new RegExp(`broke off at \\d+ of ${site.image.length} bytes; run the same command again to resume\\.$`));
    expect(await leftovers()).toHaveLength(1);
    await service.call('base.pull', { source: 'debian-12' });
    const resumed = site.requests.filter((r) => r.path === IMAGE_PATH).at(-1);
    expect(resumed?.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(await leftovers()).toEqual([]);
  });

  it('gives up on a stalled download, keeping it to resume', async () => {
    site.stallAfter = 64 * 1024;
    const err = await refusal(service.bases.pull({ source: 'debian-12', mirror: base, stallMs: 300 }));
    expect(err.message).toMatch(/stalled at 65536 of \d+ bytes; run the same command again to resume\.$/);
    expect(await leftovers()).toHaveLength(1);
    site.stallAfter = null;
    await service.call('base.pull', { source: 'debian-12' });
    expect(site.requests.filter((r) => r.path === IMAGE_PATH).at(-1)?.range).toBe('bytes=65536-');
  });

  it('cancels a download on request and keeps nothing of it', async () => {
    site.stallAfter = 64 * 1024;
    const pull = service.call('base.pull', { source: 'debian-12' });
    await waitFor('the download to start', () => events.some((e) => e.type === 'base.progress'));
    expect(await service.call('base.cancel', { name: 'debian-12' })).toBeNull();
    expect((await refusal(pull)).code).toBe('cancelled');
    expect(await leftovers()).toEqual([]);
  });

  it('refuses an image whose checksum does not match, and deletes it', async () => {
    site.image = Buffer.concat([site.image.subarray(0, 100), Buffer.from([site.image[100]! ^ 0xff]), site.image.subarray(101)]);
    const err = await refusal(service.call('base.pull', { source: 'debian-12' }));
    expect(err.code).toBe('corrupt');
    expect(err.message).toMatch(/does not match its SHA512 checksum .*; it was deleted, nothing was imported\.$/);
    expect(await leftovers()).toEqual([]);
    expect(await service.call('base.list', {})).toEqual([]);
  });

  it('refuses a name that is taken before downloading anything', async () => {
    await service.call('base.pull', { source: 'debian-12' });
    site.requests.length = 0;
    const err = await refusal(service.call('base.pull', { source: 'debian-12' }));
    expect(err.code).toBe('already-exists');
    expect(site.requests).toEqual([SUMS_PATH].map((path) => ({ path, range: null })));
  });

  it('says which names the catalog has when asked for another', async () => {
    const err = await refusal(service.call('base.pull', { source: 'fedora-40' }));
    expect(err.message).toBe('"fedora-40" is not in Xray\'s catalog (debian-12, debian-13, ubuntu-24.04) nor a URL; see "xray base pull --list".');
  });

  it('lists the catalog with what is imported', async () => {
    await service.call('base.pull', { source: 'debian-12' });
    const entries = await service.call('base.catalog', {});
    expect(entries.filter((e) => e.arch === ARCH).map((e) => [e.name, e.imported])).toEqual([
      ['debian-12', true],
      ['debian-13', false],
      ['ubuntu-24.04', false],
    ]);
  });
});

describe('base.pull from a URL', () => {
  it('refuses a URL without a checksum before fetching anything', async () => {
    const err = await refusal(service.call('base.pull', { source: `${base}/files/any.qcow2` }));
    expect(err.message).toBe('An image from a URL needs its checksum: give --sha256 HEX or --checksums URL, or --insecure-no-checksum to take it unchecked.');
    expect(site.requests).toEqual([]);
  });

  it('imports with a given SHA-256, named after the file', async () => {
    const sha256 = createHash('sha256').update(site.image).digest('hex');
    const info = await service.call('base.pull', { source: `${base}/files/My Image.qcow2`, checksum: sha256 });
    expect(info.name).toBe('My-Image');
  });

  it('refuses what is not a disk image, and keeps nothing', async () => {
    const err = await refusal(service.call('base.pull', { source: `${base}/files/text.qcow2`, insecureNoChecksum: true }));
    expect(err.message).toContain('cannot be a bootable disk');
    expect(await leftovers()).toEqual([]);
    expect(await service.call('base.list', {})).toEqual([]);
  });

  it.each([
    ['a redirect loop', '/loop', /redirected too many times/],
    ['a missing file', '/nothing.qcow2', /answered HTTP 404/],
  ])('says so in one sentence for %s, and keeps nothing', async (_what, path, message) => {
    const err = await refusal(service.call('base.pull', { source: `${base}${path}`, insecureNoChecksum: true }));
    expect(err.message).toMatch(message);
    expect(err.message.trim().split(/\. [A-Z]/)).toHaveLength(1);
    expect(await leftovers()).toEqual([]);
  });
});

describe('checksum files and mirrors', () => {
  it('finds an image in a SHA512SUMS or SHA256SUMS file, with or without the binary marker', () => {
    const sha256 = 'a'.repeat(64);
    const sha512 = 'B'.repeat(128);
    expect(checksumFor(`${sha256}  other.img\n${sha256} *disk.img\n`, 'disk.img')).toEqual({ algorithm: 'sha256', digest: sha256 });
    expect(checksumFor(`${sha512}  images/disk.qcow2\n`, 'disk.qcow2')).toEqual({ algorithm: 'sha512', digest: sha512.toLowerCase() });
    expect(checksumFor(`${sha256}  disk.img.manifest\n`, 'disk.img')).toBeNull();
  });

  it('sends a catalog address through a mirror by host and path', () => {
    expect(mirrored('https://cloud.debian.org/images/a.qcow2', 'http://127.0.0.1:8000/m/')).toBe('http://127.0.0.1:8000/m/cloud.debian.org/images/a.qcow2');
    expect(mirrored('https://cloud.debian.org/images/a.qcow2', null)).toBe('https://cloud.debian.org/images/a.qcow2');
  });
});

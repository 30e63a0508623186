// Runs in: plain Node (core).
import { lstat, mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BaseInfo, GuestArch } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { hostArch } from '../host';
import { importBase, type QemuImg } from '../images';
import { validateName } from '../names';
import { baseNameFromFile } from '../../shared/names';
import type { HomePaths } from '../paths';
import { BaseStore } from '../store/bases';
import { VmStore } from '../store/vm-config';
import { IMAGE_CATALOG, findCatalogImage } from '../../shared/catalog';
import type { Expected } from './pull';

export interface ImportRequest {
  readonly path: string;
  readonly name?: string;
  readonly link?: boolean;
  readonly arch?: GuestArch;
  readonly convert?: boolean;
  readonly flatten?: boolean;
  /** cloudInit false says the image has no cloud-init, so its VMs get no seed (default true). */
  readonly cloudInit?: boolean;
  /** origin is recorded as where the base came from (a URL for a pulled image); default: the path. */
  readonly origin?: string;
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** PullRequest is `xray base pull`: a catalog name or a URL, and how to check it. */
export interface PullRequest {
  readonly source: string;
  readonly arch?: GuestArch;
  readonly name?: string;
  /** checksum is the image's SHA-256 or SHA-512 in hex. */
  readonly checksum?: string;
  /** checksumsUrl is a SHA256SUMS/SHA512SUMS file that lists the image. */
  readonly checksumsUrl?: string;
  readonly insecureNoChecksum?: boolean;
  /** mirror, when set, is where catalog and checksum addresses are fetched from instead (see mirrored). */
  readonly mirror?: string | null;
  readonly onProgress?: (progress: { phase: 'download' | 'import'; done: number; total: number | null; bytesPerSecond?: number }) => void;
  readonly signal?: AbortSignal;
  // For testing: how long a download may receive nothing.
  readonly stallMs?: number;
}

/** BaseCatalog owns the immutable base images VMs are overlaid on. */
export class BaseCatalog {
  private readonly bases: BaseStore;
  private readonly vms: VmStore;

  constructor(
    private readonly paths: HomePaths,
    private readonly qemuImg: QemuImg,
  ) {
    this.bases = new BaseStore(paths);
    this.vms = new VmStore(paths);
  }

  async list(): Promise<BaseInfo[]> {
    const [entries, vms] = await Promise.all([this.bases.list(), this.vms.list()]);
    return Promise.all(
      entries.map(async (entry) => {
        const usedBy = vms.filter((vm) => vm.config?.base === entry.name).map((vm) => vm.name);
        let virtualSize = 0;
        let fileSize = 0;
        try {
          const info = await this.qemuImg.info(entry.imagePath);
          virtualSize = info['virtual-size'];
          fileSize = info['actual-size'] ?? 0;
        } catch {
          // A missing link target or unreadable image still lists, with zero sizes.
        }
        return {
          name: entry.name,
          arch: entry.meta.arch,
          virtualSize,
          fileSize,
          linked: entry.linked,
          source: entry.meta.source,
          importedAt: entry.meta.importedAt,
          cloudInit: entry.meta.cloudInit,
          usedBy,
        } satisfies BaseInfo;
      }),
    );
  }

  async get(name: string): Promise<BaseInfo> {
    const found = (await this.list()).find((b) => b.name === name);
    if (!found) {
      throw new XrayError('not-found', `There is no base image "${name}"; see "xray base list".`);
    }
    return found;
  }

  async import(request: ImportRequest): Promise<BaseInfo> {
    const source = resolve(request.path);
    const name = validateName('base image', request.name ?? baseNameFromFile(source));
    try {
      await lstat(source);
    } catch {
      throw new XrayError('not-found', `${source} does not exist; check the path.`);
    }
    if (await this.bases.exists(name)) {
      throw new XrayError('already-exists', `A base image named "${name}" already exists; choose another name or remove that base first.`, {
        cli: `A base image named "${name}" already exists; pass another --name or remove it with "xray base remove ${name}".`,
      });
    }
    await mkdir(this.paths.basesDir, { recursive: true, mode: 0o700 });
    const dest = this.paths.baseImage(name);
    const result = await importBase({
      source,
      dest,
      link: request.link,
      convert: request.convert,
      flatten: request.flatten,
      onProgress: request.onProgress,
      signal: request.signal,
      qemuImg: this.qemuImg,
    });
    try {
      await this.bases.writeMeta(name, {
        arch: request.arch ?? hostArch(),
        source: request.origin ?? source,
        importedAt: new Date().toISOString(),
        linked: result.linked,
        cloudInit: request.cloudInit ?? true,
        extra: {},
      });
    } catch (err) {
      await this.bases.remove(name);
      throw err;
    }
    return this.get(name);
  }

  /**
   * pull gets an image from the catalog or a URL, checks its checksum, and
   * imports it through the same validation as any import. The name is
   * checked first, so nothing is downloaded for a base that cannot be
   * written; the download is deleted once imported or refused.
   */
  async pull(request: PullRequest): Promise<BaseInfo> {
    // Downloading (HTTP, TLS, hashing) is loaded only by a pull, so other commands start without it.
    const { fetchImage, mirrored } = await import('./pull');
    const plan = await this.planPull(request);
    const name = validateName('base image', request.name ?? plan.name);
    if (await this.bases.exists(name)) {
      throw new XrayError('already-exists', `A base image named "${name}" already exists; choose another name or remove it with "xray base remove ${name}".`);
    }
    const file = await fetchImage({
      url: plan.fromCatalog ? mirrored(plan.url, request.mirror ?? null) : plan.url,
      expected: plan.expected,
      downloadsDir: join(this.paths.cacheDir, 'downloads'),
      onProgress: (p) => request.onProgress?.({ phase: 'download', ...p }),
      signal: request.signal,
      stallMs: request.stallMs,
    });
    try {
      return await this.import({
        path: file,
        name,
        arch: plan.arch,
        cloudInit: true,
        origin: plan.url,
        onProgress: (done, total) => request.onProgress?.({ phase: 'import', done, total }),
        signal: request.signal,
      });
    } finally {
      await rm(file, { force: true });
    }
  }

  /** planPull settles what to download, from where, and the checksum it must have. */
  private async planPull(request: PullRequest): Promise<{ url: string; name: string; arch: GuestArch; expected: Expected | null; fromCatalog: boolean }> {
    const [{ fetchText }, { algorithmOf, checksumFor, fileNameOf, mirrored }] = await Promise.all([import('./download'), import('./pull')]);
    const arch = request.arch ?? hostArch();
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(request.source)) {
      const image = findCatalogImage(request.source, arch);
      if (!image) {
        const names = [...new Set(IMAGE_CATALOG.map((i) => i.name))].join(', ');
        throw new XrayError('not-found', `"${request.source}" is not in Xray's catalog (${names}) nor a URL; see "xray base pull --list".`);
      }
      const sums = await fetchText(mirrored(image.checksums, request.mirror ?? null), request.signal);
      const fileName = fileNameOf(image.url);
      const expected = checksumFor(sums, fileName);
      if (!expected) throw new XrayError('corrupt', `${image.checksums} does not list ${fileName}; the vendor may be publishing a new image, try again later.`);
      return { url: image.url, name: image.name, arch, expected, fromCatalog: true };
    }
    const fileName = fileNameOf(request.source);
    const name = baseNameFromFile(fileName);
    if (request.checksum !== undefined) {
      const algorithm = algorithmOf(request.checksum);
      if (!algorithm) throw new XrayError('invalid-argument', `"${request.checksum}" is not a SHA-256 or SHA-512 checksum in hex.`);
      return { url: request.source, name, arch, expected: { algorithm, digest: request.checksum.toLowerCase() }, fromCatalog: false };
    }
    if (request.checksumsUrl !== undefined) {
      const expected = checksumFor(await fetchText(request.checksumsUrl, request.signal), fileName);
      if (!expected) throw new XrayError('corrupt', `${request.checksumsUrl} does not list ${fileName}; check both addresses.`);
      return { url: request.source, name, arch, expected, fromCatalog: false };
    }
    if (!request.insecureNoChecksum) {
      throw new XrayError(
        'invalid-argument',
        'An image from a URL needs its checksum: give --sha256 HEX or --checksums URL, or --insecure-no-checksum to take it unchecked.',
      );
    }
    return { url: request.source, name, arch, expected: null, fromCatalog: false };
  }

  async remove(name: string): Promise<void> {
    validateName('base image', name);
    const base = await this.get(name);
    if (base.usedBy.length > 0) {
      const list = base.usedBy.map((vm) => `"${vm}"`).join(', ');
      throw new XrayError('in-use', `Base image "${name}" is used by VM ${list}; remove ${base.usedBy.length > 1 ? 'those VMs' : 'that VM'} first.`);
    }
    await this.bases.remove(name);
  }
}

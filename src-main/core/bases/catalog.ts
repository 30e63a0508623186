// Runs in: plain Node (core).
import { lstat, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { BaseInfo, GuestArch } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { hostArch } from '../host';
import { importBase, type QemuImg } from '../images';
import { validateName } from '../names';
import { baseNameFromFile } from '../../shared/names';
import type { HomePaths } from '../paths';
import { BaseStore } from '../store/bases';
import { VmStore } from '../store/vm-config';

export interface ImportRequest {
  readonly path: string;
  readonly name?: string;
  readonly link?: boolean;
  readonly arch?: GuestArch;
  readonly convert?: boolean;
  readonly flatten?: boolean;
  readonly cloudInit?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
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
      throw new XrayError('already-exists', `A base image named "${name}" already exists; pass another --name or remove it with "xray base remove ${name}".`);
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
        source,
        importedAt: new Date().toISOString(),
        linked: result.linked,
        cloudInit: request.cloudInit ?? false,
        extra: {},
      });
    } catch (err) {
      await this.bases.remove(name);
      throw err;
    }
    return this.get(name);
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

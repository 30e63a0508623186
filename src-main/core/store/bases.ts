// Runs in: plain Node (core).
import { lstat, readdir, rm } from 'node:fs/promises';
import type { GuestArch } from '../../shared/models';
import { XrayError, errorMessage } from '../../shared/errors';
import { hostArch } from '../host';
import { validateName } from '../names';
import { nameProblem } from '../../shared/names';
import type { HomePaths } from '../paths';
import { describeValue, readToml, writeToml, type TomlTable } from './toml-file';

/**
 * BaseMeta is bases/NAME.toml: what Xray knows about a base image beyond the
 * image itself. Bases imported by the Python tool have no NAME.toml; they get
 * the defaults of `defaultBaseMeta`. `cloud_init` is written only as `false`,
 * an explicit opt-out: without it a base's VMs get a cloud-init seed.
 */
export interface BaseMeta {
  arch: GuestArch;
  source: string | null;
  importedAt: string | null;
  linked: boolean;
  cloudInit: boolean;
  /** extra holds keys Xray does not know, written back verbatim. */
  extra: TomlTable;
}

export interface BaseListEntry {
  readonly name: string;
  readonly meta: BaseMeta;
  readonly imagePath: string;
  /** linked is true when bases/NAME.qcow2 is a symbolic link to the user's own file. */
  readonly linked: boolean;
  /** error says why NAME.toml could not be read; `meta` then holds defaults. */
  readonly error: string | null;
}

export interface BaseStoreOptions {
  /** hostArch is the arch assumed for bases without metadata (tests pin it). */
  readonly hostArch?: GuestArch;
}

const IMAGE_SUFFIX = '.qcow2';
const KNOWN_KEYS = ['arch', 'source', 'imported_at', 'linked', 'cloud_init'];
const ARCHES: readonly GuestArch[] = ['aarch64', 'x86_64'];

/** BaseStore lists base images under XRAY_HOME/bases and keeps their metadata. */
export class BaseStore {
  private readonly hostArch: GuestArch;

  constructor(
    private readonly paths: HomePaths,
    options: BaseStoreOptions = {},
  ) {
    this.hostArch = options.hostArch ?? hostArch();
  }

  /** list returns every bases/*.qcow2 with a valid name, sorted by name, dangling links included. */
  async list(): Promise<BaseListEntry[]> {
    let files: string[];
    try {
      files = await readdir(this.paths.basesDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const names = files
      .filter((file) => file.endsWith(IMAGE_SUFFIX))
      .map((file) => file.slice(0, -IMAGE_SUFFIX.length))
      .filter((name) => nameProblem(name) === null)
      .sort();
    const entries: BaseListEntry[] = [];
    for (const name of names) {
      const imagePath = this.paths.baseImage(name);
      const linked = await isSymlink(imagePath);
      if (linked === null) continue;
      let meta: BaseMeta;
      let error: string | null = null;
      try {
        meta = await this.loadMeta(name, linked);
      } catch (err) {
        meta = this.defaultMeta(linked);
        error = errorMessage(err);
      }
      entries.push({ name, meta, imagePath, linked, error });
    }
    return entries;
  }

  /** readMeta returns NAME.toml, or defaults for a base imported without one. */
  async readMeta(name: string): Promise<BaseMeta> {
    validateName('base image', name);
    const linked = await isSymlink(this.paths.baseImage(name));
    if (linked === null) throw notFound(name);
    return this.loadMeta(name, linked);
  }

  async writeMeta(name: string, meta: BaseMeta): Promise<void> {
    validateName('base image', name);
    const data: TomlTable = {
      ...meta.extra,
      arch: meta.arch,
      linked: meta.linked,
    };
    if (!meta.cloudInit) data.cloud_init = false;
    if (meta.source !== null) data.source = meta.source;
    if (meta.importedAt !== null) data.imported_at = meta.importedAt;
    await writeToml(this.paths.baseMeta(name), data);
  }

  /** exists is true when the name is taken by an image, even a dangling link. */
  async exists(name: string): Promise<boolean> {
    return nameProblem(name) === null && (await isSymlink(this.paths.baseImage(name))) !== null;
  }

  /** remove deletes the image (only the link when linked, never the user's file) and its metadata. */
  async remove(name: string): Promise<void> {
    validateName('base image', name);
    await rm(this.paths.baseImage(name), { force: true });
    await rm(this.paths.baseMeta(name), { force: true });
    await rm(this.paths.overlayTemplates(name), { recursive: true, force: true });
  }

  private defaultMeta(linked: boolean): BaseMeta {
    return { arch: this.hostArch, source: null, importedAt: null, linked, cloudInit: true, extra: {} };
  }

  private async loadMeta(name: string, linked: boolean): Promise<BaseMeta> {
    const path = this.paths.baseMeta(name);
    let raw: TomlTable;
    try {
      raw = await readToml(path);
    } catch (err) {
      if (err instanceof XrayError && err.code === 'not-found') return this.defaultMeta(linked);
      throw err;
    }
    const bad = (key: string, expected: string): XrayError =>
      new XrayError('corrupt', `${path}: key "${key}" must be ${expected} (found ${describeValue(raw[key])}); fix the file.`);
    const arch = raw.arch ?? this.hostArch;
    if (!ARCHES.includes(arch as GuestArch)) throw bad('arch', '"aarch64" or "x86_64"');
    if (raw.source !== undefined && typeof raw.source !== 'string') throw bad('source', 'a string');
    const importedAt = raw.imported_at instanceof Date ? raw.imported_at.toISOString() : raw.imported_at;
    if (importedAt !== undefined && (typeof importedAt !== 'string' || Number.isNaN(Date.parse(importedAt)))) {
      throw bad('imported_at', 'an ISO date');
    }
    if (raw.linked !== undefined && typeof raw.linked !== 'boolean') throw bad('linked', 'true or false');
    if (raw.cloud_init !== undefined && typeof raw.cloud_init !== 'boolean') throw bad('cloud_init', 'true or false');
    const extra: TomlTable = {};
    for (const [key, value] of Object.entries(raw)) {
      if (!KNOWN_KEYS.includes(key)) extra[key] = value;
    }
    return {
      arch: arch as GuestArch,
      source: (raw.source as string | undefined) ?? null,
      importedAt: (importedAt as string | undefined) ?? null,
      linked: (raw.linked as boolean | undefined) ?? linked,
      cloudInit: (raw.cloud_init as boolean | undefined) ?? true,
      extra,
    };
  }
}

function notFound(name: string): XrayError {
  return new XrayError('not-found', `There is no base image "${name}"; see "xray base list".`);
}

/** isSymlink tells whether `path` is a symbolic link, or returns null when nothing is there. */
async function isSymlink(path: string): Promise<boolean | null> {
  try {
    return (await lstat(path)).isSymbolicLink();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

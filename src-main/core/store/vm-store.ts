// Runs in: plain Node (core).
import { readdir, rm, stat } from 'node:fs/promises';
import { XrayError, errorMessage } from '../../shared/errors';
import { validateName } from '../names';
import { nameProblem } from '../../shared/names';
import type { HomePaths } from '../paths';
import type { FileLockOptions } from './file-lock';
import { TomlCache, type TomlCacheOptions } from './toml-cache';
import { readToml, updateToml, writeToml, type TomlTable } from './toml-file';
import { parseVmConfig, serializeVmConfig, type VmConfig } from './vm-config';
import { vmConfigProblem } from './vm-config-schema';

/** vm-store keeps every VM's vm.toml under XRAY_HOME/vms: listing, reading, writing, updating, removing. */

/** VmListEntry is one VM found under XRAY_HOME/vms, loaded or not. */
export interface VmListEntry {
  readonly name: string;
  readonly config: VmConfig | null;
  /** error says why vm.toml could not be loaded; the VM still lists so the user can fix or remove it. */
  readonly error: string | null;
}

/** VmStoreOptions tunes a VmStore. */
export interface VmStoreOptions {
  /** lock tunes the cross-process lock on vm.toml (tests shorten its timeout). */
  readonly lock?: FileLockOptions;
  /** cache sets the clock the list cache uses to tell a settled vm.toml (tests move it on). */
  readonly cache?: TomlCacheOptions;
}

/**
 * VmStore reads and writes the vm.toml of every VM under XRAY_HOME/vms. Writes
 * are atomic, serialized per file within the process and locked across
 * processes, because the CLI and the daemon may both change one VM.
 */
export class VmStore {
  private readonly lock: FileLockOptions;
  private readonly cacheOptions: TomlCacheOptions;

  constructor(
    private readonly paths: HomePaths,
    options: VmStoreOptions = {},
  ) {
    this.lock = options.lock ?? {};
    this.cacheOptions = options.cache ?? {};
  }

  /** list returns every VM directory holding a vm.toml, sorted by name. */
  async list(): Promise<VmListEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.paths.vmsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    // Each vm.toml is a few hundred bytes: reading them synchronously costs far
    // less than hundreds of thread-pool round trips when listing many VMs, and
    // the cache spares reading and parsing the ones that did not change.
    const cache = new TomlCache(this.paths.vmTomlCache, this.cacheOptions);
    const tables: { name: string; path: string; table: TomlTable | null; error: string | null }[] = [];
    for (const name of names.filter((n) => nameProblem(n) === null).sort()) {
      const path = this.paths.vm(name).config;
      try {
        tables.push({ name, path, table: cache.read(name, path), error: null });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') continue;
        const error = err instanceof XrayError ? err.message : `${path} cannot be read: ${errorMessage(err)}.`;
        tables.push({ name, path, table: null, error });
      }
    }
    cache.save();
    return tables.map(({ name, path, table, error }): VmListEntry => {
      if (table === null) return { name, config: null, error };
      try {
        return { name, config: parseVmConfig(table, path), error: null };
      } catch (err) {
        return { name, config: null, error: errorMessage(err) };
      }
    });
  }

  /** read loads and checks a VM's vm.toml; a VM without one is `not-found`. */
  async read(name: string): Promise<VmConfig> {
    const path = this.configPath(name);
    try {
      return parseVmConfig(await readToml(path), path);
    } catch (err) {
      if (err instanceof XrayError && err.code === 'not-found') throw notFound(name, err);
      throw err;
    }
  }

  /** exists tells whether `name` is a valid VM name with a vm.toml. */
  async exists(name: string): Promise<boolean> {
    return nameProblem(name) === null && isFile(this.paths.vm(name).config);
  }

  /** write replaces vm.toml with `cfg`, creating the VM directory when needed. */
  async write(name: string, cfg: VmConfig): Promise<void> {
    const path = this.configPath(name);
    const data = serializeVmConfig(cfg);
    checkNewConfig(name, data);
    await writeToml(path, data, 0o600, this.lock);
  }

  /**
   * update reads vm.toml, lets `mutate` change the config, and writes it back,
   * all under the file's lock so concurrent updates never lose each other's
   * changes. A file that does not parse is left untouched.
   */
  async update(name: string, mutate: (cfg: VmConfig) => void | Promise<void>): Promise<VmConfig> {
    const path = this.configPath(name);
    if (!(await isFile(path))) throw notFound(name);
    let updated: VmConfig | undefined;
    await updateToml(
      path,
      async (data) => {
        if (!(await isFile(path))) throw notFound(name);
        const cfg = parseVmConfig(data, path);
        await mutate(cfg);
        const next = serializeVmConfig(cfg);
        checkNewConfig(name, next);
        for (const key of Object.keys(data)) delete data[key];
        Object.assign(data, next);
        updated = parseVmConfig(next, path);
      },
      0o600,
      this.lock,
    );
    if (!updated) throw new XrayError('internal', `Updating VM "${name}" produced no configuration; report this as a bug.`);
    return updated;
  }

  /** remove deletes the VM directory with everything in it. */
  async remove(name: string): Promise<void> {
    validateName('VM', name);
    await rm(this.paths.vm(name).dir, { recursive: true, force: true });
  }

  private configPath(name: string): string {
    return this.paths.vm(validateName('VM', name)).config;
  }
}

function checkNewConfig(name: string, data: TomlTable): void {
  const problem = vmConfigProblem(data);
  if (problem) throw new XrayError('invalid-argument', `The new settings for VM "${name}" are invalid: ${problem}.`);
}

function notFound(name: string, cause?: unknown): XrayError {
  return new XrayError('not-found', `VM "${name}" does not exist; run "xray list" to see your VMs.`, { cause });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw err;
  }
}

// Runs in: plain Node (core).
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { tempTag } from '../builtins';
import { parseToml, type TomlTable } from './toml-file';
import { parseSimpleToml } from './toml-simple';

/**
 * toml-cache remembers what a set of small TOML files parsed to, so listing
 * many VMs stats each vm.toml instead of reading and parsing it. A cold
 * process parses slowly (its code is not yet optimized) and, worse, the hot
 * parse loops queue optimizing compiles that the process must wait for
 * before it can exit.
 *
 * An entry is keyed by the file's identity: device, inode, size, and
 * modification and change times. Any write changes the change time, and an
 * atomic replace changes the inode too. File times tick coarsely (a few
 * milliseconds on Linux), so a file changed within SETTLE_MS of being read is
 * not remembered: a second write in the same tick, of the same size, would
 * otherwise look unchanged. Only tables the quick reader understood are kept;
 * they hold nothing JSON cannot carry (no dates, no floats).
 *
 * The cache holds parsed TOML, not checked settings, so it never depends on
 * which version of Xray reads it. It sits in XRAY_HOME/cache, as trusted as
 * the files it mirrors; a missing, corrupt or unwritable cache only costs the
 * parse.
 */

/** SETTLE_MS is how long after its last change a file must be before its table is remembered. */
const SETTLE_MS = 2000;
/** FORMAT names the cache file's layout; a file of another layout is ignored and replaced. */
const FORMAT = 1;

/** Remembered is one file's identity and the table it parsed to. */
type Remembered = [stamp: string, table: TomlTable];

/** TomlCacheOptions are for tests: the clock that decides whether a file has settled. */
export interface TomlCacheOptions {
  readonly now?: () => number;
}

/**
 * TomlCache serves the tables of files named by key (a VM's name) from the
 * cache file when the files have not changed, and parses the rest. `save`
 * writes back what this use found, dropping keys it was not asked for; call it
 * before anything can change the tables handed out.
 */
export class TomlCache {
  private readonly known: Record<string, Remembered>;
  private readonly seen: Record<string, Remembered> = {};
  private changed = false;
  private readonly now: () => number;

  constructor(
    private readonly file: string,
    options: TomlCacheOptions = {},
  ) {
    this.known = loadEntries(file);
    this.now = options.now ?? Date.now;
  }

  /**
   * read returns the table of the TOML file at path, remembered under key.
   * It throws as readFileSync and parseToml do: a missing file, a directory,
   * an unreadable file or invalid TOML.
   */
  read(key: string, path: string): TomlTable {
    const stats = statSync(path);
    if (!stats.isFile()) return parseToml(readFileSync(path, 'utf8'), path);
    const stamp = stampOf(stats);
    const known = this.known[key];
    if (known !== undefined && known[0] === stamp) {
      this.seen[key] = known;
      return known[1];
    }
    const text = readFileSync(path, 'utf8');
    const simple = parseSimpleToml(text);
    if (simple === null) return parseToml(text, path);
    if (stats.ctimeMs <= this.now() - SETTLE_MS) {
      this.seen[key] = [stamp, simple];
      this.changed = true;
    }
    return simple;
  }

  /** save writes the cache when this use remembered a new table or left out a key the file held. */
  save(): void {
    const dropped = Object.keys(this.known).some((key) => !Object.hasOwn(this.seen, key));
    if (!this.changed && !dropped) return;
    const slash = this.file.lastIndexOf('/');
    const temp = `${this.file.slice(0, slash)}/.${this.file.slice(slash + 1)}.${tempTag()}.tmp`;
    // A cache that cannot be written only makes the next listing slower.
    try {
      mkdirSync(this.file.slice(0, slash), { recursive: true, mode: 0o700 });
    } catch {
      return;
    }
    try {
      writeFileSync(temp, JSON.stringify({ format: FORMAT, entries: this.seen }), { mode: 0o600, flag: 'wx' });
      renameSync(temp, this.file);
    } catch {
      rmSync(temp, { force: true });
    }
  }
}

/** stampOf is a file's identity: device, inode, size, and modification and change times. */
function stampOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/** loadEntries reads the cache file; anything but a cache of this format reads as empty. */
function loadEntries(file: string): Record<string, Remembered> {
  const entries: Record<string, Remembered> = {};
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return entries;
  }
  if (!isObject(data) || data.format !== FORMAT || !isObject(data.entries)) return entries;
  for (const [key, value] of Object.entries(data.entries)) {
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && isObject(value[1])) entries[key] = value as Remembered;
  }
  return entries;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

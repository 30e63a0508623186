// Runs in: plain Node (core).
import TOML from '@iarna/toml';
import { closeSync, fsync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { XrayError } from '../../shared/errors';
import { type FileLockOptions, withFileLock } from './file-lock';
import { parseSimpleToml } from './toml-simple';
import { tempTag } from '../builtins';

export type TomlTable = Record<string, unknown>;

/**
 * readToml parses a TOML file. A file that does not parse is reported with its
 * path and line, as a `corrupt` error; callers must then leave it untouched.
 * A missing file is `not-found`. Xray's TOML files are a few hundred bytes: a
 * synchronous read costs far less than the four thread-pool round trips of an
 * asynchronous one, each waiting its turn behind whatever the process is doing.
 */
export async function readToml(path: string): Promise<TomlTable> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new XrayError('not-found', `${path} does not exist.`, { cause: err });
    }
    throw new XrayError('corrupt', `${path} cannot be read: ${(err as Error).message}.`, { cause: err });
  }
  return parseToml(text, path);
}

/**
 * parseToml parses TOML text read from path. The plain TOML Xray writes is
 * read by the quick reader (see toml-simple); anything else by the full parser.
 */
export function parseToml(text: string, path: string): TomlTable {
  try {
    return parseSimpleToml(text) ?? (TOML.parse(text) as TomlTable);
  } catch (err) {
    const e = err as { line?: number; col?: number; message?: string };
    const where = typeof e.line === 'number' ? ` line ${e.line + 1}` : '';
    const firstLine = (e.message ?? String(err)).split('\n')[0] ?? '';
    const what = firstLine.replace(/ at row \d+, col \d+, pos \d+:?$/, '').replace(/\.$/, '') || 'invalid TOML';
    throw new XrayError('corrupt', `${path}${where} is not valid TOML (${what}); fix or remove the file.`, { cause: err });
  }
}

/**
 * stringifyToml renders a table as TOML. @iarna/toml writes integers with
 * digit separators (`memory = 8_192`); they are valid TOML but surprise people
 * editing the file and older readers, so integers are written plainly: each is
 * swapped for a marker string before rendering and the marker replaced after
 * (a short one, since the renderer wraps arrays by their rendered length,
 * and one no string in the table holds).
 */
export function stringifyToml(data: TomlTable): string {
  const strings = JSON.stringify(data, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
  let marker = '~0';
  for (let n = 1; strings.includes(marker); n++) marker = `~${n.toString(36)}`;
  const text = TOML.stringify(markIntegers(data, marker) as TOML.JsonMap);
  return text.replace(new RegExp(`"${marker}:(-?\\d+)"`, 'g'), '$1');
}

function markIntegers(value: unknown, marker: string): unknown {
  if (typeof value === 'bigint') return `${marker}:${value}`;
  if (typeof value === 'number' && Number.isInteger(value) && !Object.is(value, -0)) return `${marker}:${value}`;
  if (Array.isArray(value)) return value.map((item) => markIntegers(item, marker));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: TomlTable = {};
    for (const [key, item] of Object.entries(value)) out[key] = markIntegers(item, marker);
    return out;
  }
  return value;
}

/**
 * describeValue renders a value found in a TOML file for an error sentence
 * ("found \"abc\"", "found a table"): strings quoted, tables and lists named.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a table';
  return String(value);
}

/**
 * writeFileAtomic writes to a temporary file beside `path`, syncs it, then
 * renames it over `path`: a reader sees the old file or the new one, never half.
 * The files are small: every step but the sync is a direct system call, which
 * costs less than the thread-pool round trip an asynchronous one waits for;
 * the sync, which may wait on the disk, runs off this thread.
 */
export async function writeFileAtomic(path: string, contents: string | Buffer, mode = 0o600): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = join(dirname(path), `.${basename(path)}.${tempTag()}.tmp`);
  const fd = openSync(temp, 'wx', mode);
  try {
    try {
      writeFileSync(fd, contents);
      await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

const queues = new Map<string, Promise<unknown>>();

/**
 * serialized runs `task` after every earlier task queued for the same file in
 * this process has settled, so read-modify-write cycles never interleave.
 */
export function serialized<T>(path: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(path) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.then(
    () => undefined,
    () => undefined,
  );
  queues.set(path, settled);
  void settled.then(() => {
    if (queues.get(path) === settled) queues.delete(path);
  });
  return next;
}

/**
 * writeToml atomically replaces a TOML file, serialized with other writers of
 * it: in this process by a queue, across processes by the advisory lock file.
 */
export function writeToml(path: string, data: TomlTable, mode = 0o600, lock: FileLockOptions = {}): Promise<void> {
  return serialized(path, async () => {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    await withFileLock(path, () => writeFileAtomic(path, stringifyToml(data), mode), lock);
  });
}

/**
 * updateToml reads the file (an empty table when missing), lets `mutate` change
 * it in place, and writes it back atomically, all serialized per file (and
 * locked across processes, like writeToml). A file that fails to parse is never
 * overwritten: the parse error propagates, as does anything `mutate` throws.
 */
export function updateToml(
  path: string,
  mutate: (data: TomlTable) => void | Promise<void>,
  mode = 0o600,
  lock: FileLockOptions = {},
): Promise<TomlTable> {
  return serialized(path, async () => {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    return withFileLock(path, async () => {
      let data: TomlTable;
      try {
        data = await readToml(path);
      } catch (err) {
        if (err instanceof XrayError && err.code === 'not-found') data = {};
        else throw err;
      }
      await mutate(data);
      await writeFileAtomic(path, stringifyToml(data), mode);
      return data;
    }, lock);
  });
}

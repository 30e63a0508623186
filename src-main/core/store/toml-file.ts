// Runs in: plain Node (core).
import TOML from '@iarna/toml';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { XrayError } from '../errors';

export type TomlTable = Record<string, unknown>;

/**
 * readToml parses a TOML file. A file that does not parse is reported with its
 * path and line, as a `corrupt` error; callers must then leave it untouched.
 * A missing file is `not-found`.
 */
export async function readToml(path: string): Promise<TomlTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new XrayError('not-found', `${path} does not exist.`, { cause: err });
    }
    throw new XrayError('corrupt', `${path} cannot be read: ${(err as Error).message}.`, { cause: err });
  }
  return parseToml(text, path);
}

export function parseToml(text: string, path: string): TomlTable {
  try {
    return TOML.parse(text) as TomlTable;
  } catch (err) {
    const e = err as { line?: number; col?: number; message?: string };
    const where = typeof e.line === 'number' ? ` line ${e.line + 1}` : '';
    const what = (e.message ?? String(err)).split('\n')[0]?.replace(/\.$/, '') ?? 'invalid TOML';
    throw new XrayError('corrupt', `${path}${where} is not valid TOML (${what}); fix or remove the file.`, { cause: err });
  }
}

export function stringifyToml(data: TomlTable): string {
  return TOML.stringify(data as TOML.JsonMap);
}

/**
 * writeFileAtomic writes to a temporary file beside `path`, syncs it, then
 * renames it over `path`: a reader sees the old file or the new one, never half.
 */
export async function writeFileAtomic(path: string, contents: string | Buffer, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
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

/** writeToml atomically replaces a TOML file, serialized with other writers of it. */
export function writeToml(path: string, data: TomlTable, mode = 0o600): Promise<void> {
  return serialized(path, () => writeFileAtomic(path, stringifyToml(data), mode));
}

/**
 * updateToml reads the file (an empty table when missing), lets `mutate` change
 * it in place, and writes it back atomically, all serialized per file. A file
 * that fails to parse is never overwritten: the parse error propagates.
 */
export function updateToml(
  path: string,
  mutate: (data: TomlTable) => void | Promise<void>,
  mode = 0o600,
): Promise<TomlTable> {
  return serialized(path, async () => {
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
  });
}

// Runs in: plain Node (core).
import { closeSync, fstatSync, openSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { link, readFile, rename, stat, unlink } from 'node:fs/promises';
import { XrayError } from '../../shared/errors';
import { tempTag } from '../builtins';

/**
 * FileLockOptions tune withFileLock. The defaults suit a TOML read-modify-write,
 * which takes milliseconds: a lock older than `staleMs` belongs to a process
 * that hung or whose pid was reused, and is broken.
 */
export interface FileLockOptions {
  readonly staleMs?: number;
  readonly timeoutMs?: number;
}

const DEFAULT_STALE_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 10_000;
const FIRST_DELAY_MS = 5;
const MAX_DELAY_MS = 200;

/** lockPathFor names the advisory lock file that guards `target`. */
export function lockPathFor(target: string): string {
  return `${target}.lock`;
}

/**
 * withFileLock runs `task` while holding `TARGET.lock`, a file created with
 * O_EXCL that holds the owner's pid. It is advisory and exists because the CLI
 * and the daemon are separate processes that may both rewrite one file; within
 * one process, callers must serialize themselves first (see `serialized`),
 * since a second holder in the same process would wait for the first.
 */
export async function withFileLock<T>(
  target: string,
  task: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const lockPath = lockPathFor(target);
  const owned = await acquire(lockPath, options.staleMs ?? DEFAULT_STALE_MS, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    return await task();
  } finally {
    release(lockPath, owned);
  }
}

/**
 * LockIdentity tells one lock file from a later one at the same path: inode
 * numbers are reused after a delete, so the modification time goes with it.
 */
type LockIdentity = string;

function identityOf(info: { ino: number; mtimeMs: number }): LockIdentity {
  return `${info.ino}:${info.mtimeMs}`;
}

async function acquire(lockPath: string, staleMs: number, timeoutMs: number): Promise<LockIdentity> {
  const deadline = Date.now() + timeoutMs;
  let delay = FIRST_DELAY_MS;
  for (;;) {
    const created = tryCreate(lockPath);
    if (created !== null) return created;
    const holder = await inspect(lockPath, staleMs);
    if (holder === null) continue;
    if (holder.stale) {
      await breakStale(lockPath, holder.identity);
      continue;
    }
    if (Date.now() >= deadline) {
      const who = holder.pid === null ? 'another process' : `process ${holder.pid}`;
      throw new XrayError(
        'busy',
        `${lockPath} is held by ${who}; wait for it to finish, or delete that file if no Xray process is running.`,
      );
    }
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    delay = Math.min(MAX_DELAY_MS, Math.ceil(delay * 1.5));
  }
}

/**
 * tryCreate returns the identity of the lock it created, or null when one
 * exists. Like release, it makes a few direct system calls on a tiny file,
 * cheaper than the thread-pool round trip each asynchronous call waits for.
 */
function tryCreate(lockPath: string): LockIdentity | null {
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw err;
  }
  try {
    writeFileSync(fd, `${process.pid}\n`);
    return identityOf(fstatSync(fd));
  } finally {
    closeSync(fd);
  }
}

interface Holder {
  readonly identity: LockIdentity;
  readonly pid: number | null;
  readonly stale: boolean;
}

/** inspect describes the current lock, or returns null when it just vanished. */
async function inspect(lockPath: string, staleMs: number): Promise<Holder | null> {
  try {
    const info = await stat(lockPath);
    const text = await readFile(lockPath, 'utf8');
    const pid = /^\d+$/.test(text.trim()) ? Number(text.trim()) : null;
    const tooOld = Date.now() - info.mtimeMs > staleMs;
    const dead = pid !== null && !processAlive(pid);
    return { identity: identityOf(info), pid, stale: tooOld || dead };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * breakStale removes the stale lock `stale`. It renames the lock
 * aside first, so when another process replaced the stale lock with a fresh
 * one in the meantime, the fresh one is linked back instead of deleted.
 */
async function breakStale(lockPath: string, stale: LockIdentity): Promise<void> {
  const aside = `${lockPath}.${tempTag()}.stale`;
  try {
    await rename(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    if (identityOf(await stat(aside)) !== stale) {
      await link(aside, lockPath).catch(() => undefined);
    }
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/** release deletes the lock only if it is still the one this holder created. */
function release(lockPath: string, owned: LockIdentity): void {
  try {
    if (identityOf(statSync(lockPath)) === owned) unlinkSync(lockPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

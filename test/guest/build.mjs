// Runs in: plain Node (test tooling). Plain JS so `.ci/run` can call it before
// the tests: `node test/guest/build.mjs` builds the test guest if needed and
// prints its path. guest.ts re-exports it for the tests.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const GUEST_DIR = dirname(fileURLToPath(import.meta.url));

/** RECIPE_FILES are the files whose contents decide the image: change one and it is rebuilt. */
export const RECIPE_FILES = ['build-guest.sh'];

const IMAGE_NAME = 'guest.qcow2';
const LOCK_POLL_MS = 2_000;
const LOG_TAIL_LINES = 40;

/** recipeHash is the sha256 of the recipe files, names and contents, in RECIPE_FILES order. */
export async function recipeHash() {
  const hash = createHash('sha256');
  for (const name of RECIPE_FILES) {
    const content = await readFile(join(GUEST_DIR, name));
    hash.update(`${name}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest('hex');
}

/** guestCacheRoot is where built guests live, outside the repo so clones and CI runs share them. */
export function guestCacheRoot(env = process.env) {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.trim() !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'xray-test-guest');
}

/**
 * ensureTestGuest returns the cached guest image for the current recipe,
 * building it first when it is missing. A lock file holding the builder's pid
 * keeps two test workers from building at once; the other one waits.
 */
export async function ensureTestGuest(opts = {}) {
  const log = opts.log ?? (() => {});
  const hash = await recipeHash();
  const root = guestCacheRoot();
  const image = join(root, hash, IMAGE_NAME);
  await mkdir(root, { recursive: true });
  const lockPath = join(root, `${hash}.lock`);
  for (;;) {
    if (await exists(image)) return { image, recipeHash: hash };
    const lock = await tryLock(lockPath);
    if (!lock) {
      log(`waiting for another process to build ${image}`);
      await sleep(LOCK_POLL_MS);
      continue;
    }
    try {
      if (!(await exists(image))) await build(root, hash, log);
    } finally {
      await unlink(lockPath).catch(() => {});
    }
  }
}

async function build(root, hash, log) {
  const started = Date.now();
  const work = await mkdtemp(join(root, `${hash}.building-`));
  try {
    log(`building test guest ${hash.slice(0, 12)} (several minutes)`);
    await runRecipe(work, join(root, 'debs'), log);
    await mkdir(join(root, hash), { recursive: true });
    await rename(join(work, IMAGE_NAME), join(root, hash, IMAGE_NAME));
    log(`built test guest in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  await pruneOtherBuilds(root, hash);
}

function runRecipe(outDir, debCache, log) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(GUEST_DIR, 'build-guest.sh'), outDir], {
      env: { ...process.env, XRAY_GUEST_DEB_CACHE: debCache },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail = [];
    const onLine = (line) => {
      tail.push(line);
      if (tail.length > LOG_TAIL_LINES) tail.shift();
      log(line);
    };
    lines(child.stdout, onLine);
    lines(child.stderr, onLine);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`build-guest.sh failed (${signal ?? `exit ${code}`}):\n${tail.join('\n')}`));
    });
  });
}

function lines(stream, onLine) {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) onLine(part);
  });
  stream.on('end', () => {
    if (buffered !== '') onLine(buffered);
  });
}

/** tryLock creates the lock file, breaking it when its owner is dead; false while a live process holds it. */
async function tryLock(lockPath) {
  try {
    const handle = await open(lockPath, 'wx');
    await handle.writeFile(String(process.pid));
    await handle.close();
    return true;
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  }
  const owner = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10);
  if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) return false;
  await unlink(lockPath).catch(() => {});
  return false;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** pruneOtherBuilds removes images of older recipes so the cache holds one guest. */
async function pruneOtherBuilds(root, keep) {
  for (const entry of await readdir(root)) {
    if (/^[0-9a-f]{64}$/.test(entry) && entry !== keep) {
      await rm(join(root, entry), { recursive: true, force: true });
    }
  }
}

async function exists(path) {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureTestGuest({ log: (line) => process.stderr.write(`${line}\n`) }).then(
    ({ image }) => process.stdout.write(`${image}\n`),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XrayError } from '../../../src-main/shared/errors';
import { HomePaths } from '../../../src-main/core/paths';
import { lockPathFor, withFileLock } from '../../../src-main/core/store/file-lock';
import { VmStore, type VmConfig } from '../../../src-main/core/store/vm-config';

let root: string;
let paths: HomePaths;
let children: ChildProcess[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'xray-lock-'));
  paths = new HomePaths(root);
});

afterEach(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children = [];
  await rm(root, { recursive: true, force: true });
});

const CONFIG: VmConfig = {
  base: 'debian-12',
  memoryMb: 1024,
  cpus: 1,
  ports: [],
  sshPort: 2222,
  sshUser: 'debian',
  firewallConfigured: false,
  firstBootCompleted: false,
  firewall: {},
  plugins: {},
  snapshots: {},
  autoSnapshots: null,
  cloudInit: false,
  extra: {},
};

/**
 * holdLock starts another Node process that takes `lockPath` the way Xray does
 * (O_EXCL, pid inside) and releases it when told to on stdin.
 */
async function holdLock(lockPath: string): Promise<ChildProcess> {
  const script = `
    const fs = require('node:fs');
    const fd = fs.openSync(process.argv[1], 'wx', 0o600);
    fs.writeSync(fd, process.pid + '\\n');
    fs.closeSync(fd);
    process.stdout.write('locked\\n');
    process.stdin.once('data', () => { fs.unlinkSync(process.argv[1]); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['-e', script, lockPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('vm.toml lock across processes', () => {
  it('makes an update wait until another process releases the lock', async () => {
    const store = new VmStore(paths);
    await store.write('vm1', CONFIG);
    const config = paths.vm('vm1').config;
    const holder = await holdLock(lockPathFor(config));

    let done = false;
    const update = store.update('vm1', (cfg) => { cfg.cpus = 2; }).then((cfg) => { done = true; return cfg; });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(done).toBe(false);
    expect(await readFile(config, 'utf8')).toMatch(/^cpus = 1$/m);

    holder.stdin!.write('go\n');
    expect((await update).cpus).toBe(2);
    expect(await readFile(config, 'utf8')).toMatch(/^cpus = 2$/m);
  });

  it('gives up with a busy error naming the lock file when the holder never lets go', async () => {
    const store = new VmStore(paths, { lock: { timeoutMs: 300 } });
    await store.write('vm1', CONFIG);
    const lockPath = lockPathFor(paths.vm('vm1').config);
    const holder = await holdLock(lockPath);
    const before = await readFile(paths.vm('vm1').config, 'utf8');
    const err = await store.update('vm1', (cfg) => { cfg.cpus = 2; }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XrayError);
    expect((err as XrayError).code).toBe('busy');
    expect((err as XrayError).message).toContain(lockPath);
    expect((err as XrayError).message).toContain(`process ${holder.pid}`);
    expect(await readFile(paths.vm('vm1').config, 'utf8')).toBe(before);
  });

  it('breaks a lock left by a process that died', async () => {
    const store = new VmStore(paths, { lock: { timeoutMs: 2000 } });
    await store.write('vm1', CONFIG);
    const lockPath = lockPathFor(paths.vm('vm1').config);
    await writeFile(lockPath, `${await deadPid()}\n`);
    expect((await store.update('vm1', (cfg) => { cfg.cpus = 3; })).cpus).toBe(3);
    await expect(stat(lockPath)).rejects.toThrow();
  });

  it('breaks a lock older than 30 seconds even if its pid is alive', async () => {
    const store = new VmStore(paths, { lock: { timeoutMs: 2000 } });
    await store.write('vm1', CONFIG);
    const lockPath = lockPathFor(paths.vm('vm1').config);
    await writeFile(lockPath, `${process.pid}\n`);
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath, old, old);
    expect((await store.update('vm1', (cfg) => { cfg.cpus = 4; })).cpus).toBe(4);
  });

  it('does not break a fresh lock whose holder is alive', async () => {
    const target = join(root, 'file.toml');
    await writeFile(lockPathFor(target), `${process.pid}\n`);
    const err = await withFileLock(target, async () => 'ran', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect((err as XrayError).code).toBe('busy');
  });

  it('releases the lock when the task throws', async () => {
    const target = join(root, 'file.toml');
    await expect(withFileLock(target, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(stat(lockPathFor(target))).rejects.toThrow();
    expect(await withFileLock(target, async () => 'again')).toBe('again');
  });
});

import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HomePaths } from '../../../src-main/core/paths';

const run = promisify(execFile);

/** tempDir makes a private directory for one test and returns it with its cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'xray-images-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** tempHome makes a private directory holding an XRAY_HOME ("home") with its bases directory. */
export async function tempHome(): Promise<{ dir: string; home: HomePaths; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir();
  const home = new HomePaths(join(dir, 'home'));
  await mkdir(home.basesDir, { recursive: true });
  return { dir, home, cleanup };
}

export async function qemuImg(...args: string[]): Promise<string> {
  return (await run('qemu-img', args)).stdout;
}

export async function qemuIo(image: string, command: string, format = 'qcow2'): Promise<string> {
  return (await run('qemu-io', ['-f', format, '-c', command, image])).stdout;
}

/** readsPattern is true when `len` bytes at `offset` of a qcow2 image all equal `pattern`. */
export async function readsPattern(image: string, pattern: number, offset: number, len: string): Promise<boolean> {
  try {
    const out = await qemuIo(image, `read -P 0x${pattern.toString(16)} ${offset} ${len}`);
    return !out.includes('Pattern verification failed');
  } catch {
    return false;
  }
}

export async function infoJson(image: string, ...extra: string[]): Promise<Record<string, unknown>> {
  return JSON.parse(await qemuImg('info', '--output=json', '-U', ...extra, image)) as Record<string, unknown>;
}

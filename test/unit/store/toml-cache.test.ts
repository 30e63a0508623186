// `xray list` reads each VM's vm.toml through a cache of parsed tables
// (cache/vm-toml.json). Whatever the cache holds, a listing must show what
// the files say now: edited by hand, replaced, removed, broken or fresh.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomePaths } from '../../../src-main/core/paths';
import { parseVmConfig } from '../../../src-main/core/store/vm-config';
import { VmStore } from '../../../src-main/core/store/vm-store';

let dir: string;
let paths: HomePaths;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-toml-cache-'));
  paths = new HomePaths(join(dir, 'home'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** later is a store whose clock runs a minute ahead, so every file has settled and may be remembered. */
const later = () => new VmStore(paths, { cache: { now: () => Date.now() + 60_000 } });

function vmToml(memory: number, extra = ''): string {
  return `base = "small"\nmemory = ${memory}\ncpus = 1\nssh_port = 2222\n${extra}`;
}

async function writeVm(name: string, text: string): Promise<void> {
  await mkdir(paths.vm(name).dir, { recursive: true });
  await writeFile(paths.vm(name).config, text);
}

async function memories(store: VmStore): Promise<Record<string, number | string>> {
  return Object.fromEntries((await store.list()).map((e) => [e.name, e.config?.memoryMb ?? `error: ${e.error}`]));
}

async function cached(): Promise<Record<string, [string, Record<string, unknown>]>> {
  return (JSON.parse(await readFile(paths.vmTomlCache, 'utf8')) as { entries: Record<string, [string, Record<string, unknown>]> }).entries;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('the vm.toml cache behind xray list', () => {
  it('remembers settled files, and serves them from the cache while they are unchanged', async () => {
    await writeVm('a', vmToml(256));
    await writeVm('b', vmToml(512));
    expect(await memories(later())).toEqual({ a: 256, b: 512 });
    const entries = await cached();
    expect(Object.keys(entries).sort()).toEqual(['a', 'b']);

    // A remembered table with the file's stamp is what the next listing uses, not the file.
    entries.a![1].memory = 999;
    await writeFile(paths.vmTomlCache, JSON.stringify({ format: 1, entries }));
    expect(await memories(later())).toEqual({ a: 999, b: 512 });
  });

  it('shows a hand edit that keeps the file the same size', async () => {
    await writeVm('a', vmToml(256));
    expect(await memories(later())).toEqual({ a: 256 });
    await tick();
    await writeFile(paths.vm('a').config, vmToml(512));
    expect(await memories(later())).toEqual({ a: 512 });
  });

  it('shows a vm.toml replaced by an update', async () => {
    const store = later();
    await store.write('a', parseVmConfig({ base: 'small', memory: 256, ssh_port: 2222 }, 'vm.toml'));
    expect(await memories(store)).toEqual({ a: 256 });
    await store.update('a', (cfg) => {
      cfg.memoryMb = 768;
    });
    expect(await memories(store)).toEqual({ a: 768 });
  });

  it('does not remember a file changed just now, whose next change could share its time stamp', async () => {
    await writeVm('fresh', vmToml(256));
    await writeVm('old', vmToml(256));
    const settledAt = Date.now() + 60_000;
    await new VmStore(paths, { cache: { now: () => settledAt } }).list();
    await writeFile(paths.vm('fresh').config, vmToml(384));
    expect(await memories(new VmStore(paths))).toEqual({ fresh: 384, old: 256 });
    expect(Object.keys(await cached())).toEqual(['old']);
  });

  it('forgets removed VMs', async () => {
    await writeVm('a', vmToml(256));
    await writeVm('b', vmToml(256));
    const store = later();
    await store.list();
    await store.remove('b');
    expect(await memories(store)).toEqual({ a: 256 });
    expect(Object.keys(await cached())).toEqual(['a']);
  });

  it('reads files the quick reader leaves to the full parser, and does not remember them', async () => {
    await writeVm('commented', `# written by hand\n${vmToml(640)}`);
    expect(await memories(later())).toEqual({ commented: 640 });
    await expect(readFile(paths.vmTomlCache, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('still reports a broken vm.toml with its path and line', async () => {
    await writeVm('good', vmToml(256));
    await writeVm('broken', 'base = "small"\nmemory = = 3\n');
    const [broken, good] = await later().list();
    expect(broken!.config).toBeNull();
    expect(broken!.error).toContain(`${paths.vm('broken').config} line 2 is not valid TOML`);
    expect(good!.config?.memoryMb).toBe(256);
  });

  it('lists from the files when the cache is corrupt, and replaces it', async () => {
    await writeVm('a', vmToml(256));
    await mkdir(paths.cacheDir, { recursive: true });
    for (const junk of ['{"format":1,"entries":{"a":["x"', 'null', '{"format":1,"entries":{"a":"allow"}}', '{"format":99,"entries":{}}']) {
      await writeFile(paths.vmTomlCache, junk);
      expect(await memories(later())).toEqual({ a: 256 });
      expect(Object.keys(await cached())).toEqual(['a']);
    }
  });

  it('lists from the files when the cache cannot be written', async () => {
    await writeVm('a', vmToml(256));
    await writeFile(paths.cacheDir, 'not a directory');
    expect(await memories(later())).toEqual({ a: 256 });
    expect(await readFile(paths.cacheDir, 'utf8')).toBe('not a directory');
  });
});

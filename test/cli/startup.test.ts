// bin/xray on Node 20 keeps V8's code cache beside the bundle, one per command:
// written by the successful run that lacks it, read by the next, a bad one is
// replaced, never fatal, and a rebuilt bundle's run clears the old ones away.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CliResult, REPO, tempDir } from '../helpers/cli';

// Other CLI test files run bin/xray at the same time and write their own
// caches into dist/cli, so this file runs a copy of bin/xray and the bundle.
let copy: { path: string; cleanup: () => Promise<void> };
let DIST: string;
const caches = () => readdirSync(DIST).filter((f) => f.startsWith('xray.cjs.') && f.endsWith('.cache'));

let home: { path: string; cleanup: () => Promise<void> };

function xray(homePath: string, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [join(copy.path, 'bin', 'xray'), ...args], { env: { ...process.env, XRAY_HOME: homePath, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      resolvePromise({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  copy = await tempDir('xray-cli-copy-');
  DIST = join(copy.path, 'dist', 'cli');
  mkdirSync(DIST, { recursive: true });
  cpSync(join(REPO, 'bin'), join(copy.path, 'bin'), { recursive: true });
  cpSync(join(REPO, 'dist', 'cli', 'xray.cjs'), join(DIST, 'xray.cjs'));
  cpSync(join(REPO, 'package.json'), join(copy.path, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(copy.path, 'node_modules'));
});

afterAll(async () => {
  await copy.cleanup();
});

beforeEach(async () => {
  home = await tempDir('xray-cli-startup-');
});

afterEach(async () => {
  await home.cleanup();
});

// Node 22.1+ has its own compile cache (module.enableCompileCache), which bin/xray uses instead.
describe.skipIf('enableCompileCache' in module)('the code cache of bin/xray', () => {
  it('is written by a run that finds none, named for this Node, this bundle and the command', async () => {
    for (const file of caches()) rmSync(join(DIST, file));
    expect((await xray(home.path, ['--help'])).code).toBe(0);
    const stamp = `xray\\.cjs\\.${process.version.replace(/\./g, '\\.')}-\\d+-\\d+`;
    expect(caches()).toEqual([expect.stringMatching(new RegExp(`^${stamp}\\.main\\.cache$`))]);
    expect((await xray(home.path, ['list'])).code).toBe(0);
    expect(caches().sort()).toEqual([expect.stringMatching(new RegExp(`^${stamp}\\.list\\.cache$`)), expect.stringMatching(new RegExp(`^${stamp}\\.main\\.cache$`))]);
  });

  it('takes in what each of the first three runs of a command compiled, then is only read', async () => {
    for (const file of caches()) rmSync(join(DIST, file));
    const listCache = () => join(DIST, caches().find((f) => f.endsWith('.list.cache'))!);
    const runsIn = () => readFileSync(listCache()).at(-1);
    await xray(home.path, ['list']);
    expect(runsIn()).toBe(1);
    // `--json` prints through code the plain list did not run.
    await xray(home.path, ['list', '--json']);
    expect(runsIn()).toBe(2);
    await xray(home.path, ['list']);
    expect(runsIn()).toBe(3);
    const third = readFileSync(listCache());
    await xray(home.path, ['list']);
    expect(readFileSync(listCache()).equals(third)).toBe(true);
  });

  it('is not written by a failed run, so a mistyped command leaves nothing behind', async () => {
    const before = caches();
    const r = await xray(home.path, ['lsit']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown command 'lsit'/);
    expect(caches()).toEqual(before);
    expect(caches().filter((f) => f.includes('.lsit.'))).toEqual([]);
  });

  it('of an older bundle or another Node is removed when a new one is written', async () => {
    await xray(home.path, ['--help']);
    const cache = caches().find((f) => f.endsWith('.main.cache'));
    const stale = cache!.replace(/-\d+-\d+\./, '-1-1.');
    writeFileSync(join(DIST, stale), 'left by an older build');
    rmSync(join(DIST, cache!));
    expect((await xray(home.path, ['--help'])).code).toBe(0);
    expect(caches()).toContain(cache);
    expect(caches()).not.toContain(stale);
  });

  it('is replaced when V8 refuses it, and the command still runs', async () => {
    await xray(home.path, ['list']);
    const cache = caches().find((f) => f.endsWith('.list.cache'));
    writeFileSync(join(DIST, cache!), 'not a code cache');
    const r = await xray(home.path, ['list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^No VMs yet/);
    expect(readFileSync(join(DIST, cache!), 'utf8')).not.toBe('not a code cache');
  });
});

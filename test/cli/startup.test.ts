// bin/xray on Node 20 keeps V8's code cache beside the bundle: written by the
// run that lacks it, read by the next, and a bad one is replaced, never fatal.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO, tempDir, xray } from '../helpers/cli';

const DIST = join(REPO, 'dist', 'cli');
const caches = () => readdirSync(DIST).filter((f) => f.startsWith('xray.cjs.') && f.endsWith('.cache'));

let home: { path: string; cleanup: () => Promise<void> };

beforeEach(async () => {
  home = await tempDir('xray-cli-startup-');
});

afterEach(async () => {
  await home.cleanup();
});

// Node 22.1+ has its own compile cache (module.enableCompileCache), which bin/xray uses instead.
describe.skipIf('enableCompileCache' in module)('the code cache of bin/xray', () => {
  it('is written by a run that finds none, named for this Node and this bundle', async () => {
    for (const file of caches()) rmSync(join(DIST, file));
    expect((await xray(home.path, ['--help'])).code).toBe(0);
    expect(caches()).toEqual([expect.stringMatching(new RegExp(`^xray\\.cjs\\.${process.version.replace(/\./g, '\\.')}-\\d+-\\d+\\.cache$`))]);
  });

  it('is replaced when V8 refuses it, and the command still runs', async () => {
    await xray(home.path, ['--help']);
    const [cache] = caches();
    writeFileSync(join(DIST, cache!), 'not a code cache');
    const r = await xray(home.path, ['list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^No VMs yet/);
    expect(readFileSync(join(DIST, cache!), 'utf8')).not.toBe('not a code cache');
  });
});

// On Node 20, exporting a generated key as JWK can deadlock the process when a
// garbage collection runs during the export (the export and the collected key
// job lock the same mutex). A hung `xray create`, or a hung supervisor issuing
// TLS certificates, is what a user would see. Key making is run here many
// times under allocation pressure in a child process, so a hang fails the
// test at its deadline instead of stopping the test run.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../../helpers/cli';

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-keygen-'));
  bundle = join(dir, 'keys.cjs');
  await build({
    absWorkingDir: REPO,
    stdin: {
      contents: "export { generateEd25519 } from './src-main/core/ssh/keys'; export { keyIdentifier } from './src-main/core/firewall/x509';",
      resolveDir: REPO,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: bundle,
    logLevel: 'warning',
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** runKeyLoop makes `count` keys with `make` in a child process, allocating between them; false if it did not end by the deadline. */
function runKeyLoop(make: string, count: number): { finished: boolean; stdout: string } {
  const script = `
    const { generateEd25519, keyIdentifier } = require(${JSON.stringify(bundle)});
    const crypto = require('node:crypto');
    let garbage = [];
    for (let i = 0; i < ${count}; i++) {
      ${make};
      garbage.push(new Array(64).fill(i));
      if (garbage.length > 1000) garbage = [];
    }
    process.stdout.write('done');`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  return { finished: r.status === 0, stdout: r.stdout };
}

describe('making keys under garbage collection', () => {
  it('never hangs for VM SSH keys', () => {
    expect(runKeyLoop('generateEd25519()', 20_000)).toEqual({ finished: true, stdout: 'done' });
  });

  it('never hangs for TLS key identifiers of new P-256 keys', () => {
    const make = "const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }); keyIdentifier(publicKey); keyIdentifier(privateKey)";
    expect(runKeyLoop(make, 20_000)).toEqual({ finished: true, stdout: 'done' });
  });
});

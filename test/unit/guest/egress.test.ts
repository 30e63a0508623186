// The egress boot hook's script, run for real by a shell against a fake root.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { egressScript } from '../../../src-main/core/guest/egress';

const run = promisify(execFile);
const CA = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n';
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'xray-egress-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * inFakeRoot runs the script with its absolute paths moved under `root`, and
 * on PATH a stand-in for update-ca-certificates (a fake, named so: the real
 * one needs the guest's root) that links the CA into the store as the real
 * one does and counts its runs.
 */
async function inFakeRoot(script: string): Promise<void> {
  const moved = script.replaceAll('/usr/local/share/', `${root}/share/`).replaceAll('/etc/', `${root}/etc/`).replace(/^PATH=.*$/m, `PATH=${root}/bin:$PATH`);
  await run('mkdir', ['-p', `${root}/bin`, `${root}/etc/ssl/certs`]);
  const fake = `#!/bin/sh\nln -sf ${root}/share/ca-certificates/xray-egress.crt ${root}/etc/ssl/certs/xray-egress.pem\necho run >>${root}/updates\n`;
  await writeFile(`${root}/bin/update-ca-certificates`, fake, { mode: 0o755 });
  await run('sh', ['-c', moved]);
}

async function trustStoreUpdates(): Promise<number> {
  return (await readFile(`${root}/updates`, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
}

describe('egressScript', () => {
  it('installs the CA and writes the CA variables and each placeholder in its own block of /etc/environment', async () => {
    await writeFile(`${root}/keep`, '');
    await run('mkdir', ['-p', `${root}/etc`]);
    await writeFile(`${root}/etc/environment`, 'LANG=C.UTF-8\n');
    await inFakeRoot(egressScript({ caPem: CA, variables: { GITHUB_TOKEN: 'xray:github:0123456789abcdef0123456789abcdef' } }));
    expect(await readFile(`${root}/share/ca-certificates/xray-egress.crt`, 'utf8')).toBe(CA);
    const environment = await readFile(`${root}/etc/environment`, 'utf8');
    expect(environment).toContain('LANG=C.UTF-8\n# xray egress: begin');
    expect(environment).toContain(`NODE_EXTRA_CA_CERTS=${root}/share/ca-certificates/xray-egress.crt`);
    expect(environment).toContain('GITHUB_TOKEN=xray:github:0123456789abcdef0123456789abcdef');
  });

  it('takes away a variable whose binding is gone, at the next boot', async () => {
    await inFakeRoot(egressScript({ caPem: CA, variables: { GITHUB_TOKEN: 'xray:github:0123456789abcdef0123456789abcdef' } }));
    await inFakeRoot(egressScript({ caPem: CA, variables: {} }));
    const environment = await readFile(`${root}/etc/environment`, 'utf8');
    expect(environment).not.toContain('GITHUB_TOKEN');
    expect(environment.match(/xray egress: begin/g)).toHaveLength(1);
  });

  it('rebuilds the trust store only when the CA changed or is missing from it', async () => {
    await inFakeRoot(egressScript({ caPem: CA, variables: {} }));
    await inFakeRoot(egressScript({ caPem: CA, variables: {} }));
    expect(await trustStoreUpdates()).toBe(1);
    await inFakeRoot(egressScript({ caPem: CA.replace('MIIBtest', 'MIIBnew'), variables: {} }));
    expect(await trustStoreUpdates()).toBe(2);
    await rm(`${root}/etc/ssl/certs/xray-egress.pem`);
    await inFakeRoot(egressScript({ caPem: CA.replace('MIIBtest', 'MIIBnew'), variables: {} }));
    expect(await trustStoreUpdates()).toBe(3);
  });

  it('refuses a variable it cannot write safely', () => {
    expect(() => egressScript({ caPem: CA, variables: { 'BAD NAME': 'x' } })).toThrow('cannot be written safely');
  });
});

// The egress boot hook's script, run for real by a shell (and the host's real
// openssl) against a fake root.
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

/** certificateAuthority makes a CA and a leaf it signed, in PEM, with the host's openssl. */
async function certificateAuthority(name: string): Promise<{ ca: string; leaf: string }> {
  const dir = join(root, 'pki', name);
  await run('mkdir', ['-p', dir]);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', `${dir}/ca.key`, '-out', `${dir}/ca.pem`, '-days', '2', '-subj', `/CN=${name} CA`]);
  await run('openssl', ['req', '-new', ...ec, '-keyout', `${dir}/leaf.key`, '-out', `${dir}/leaf.csr`, '-subj', `/CN=${name}.example.test`]);
  await run('openssl', ['x509', '-req', '-in', `${dir}/leaf.csr`, '-CA', `${dir}/ca.pem`, '-CAkey', `${dir}/ca.key`, '-CAcreateserial', '-out', `${dir}/leaf.pem`, '-days', '1']);
  return { ca: await readFile(`${dir}/ca.pem`, 'utf8'), leaf: `${dir}/leaf.pem` };
}

/** verifies says whether openssl trusts `leaf` through the store's hash links and through its bundle. */
async function verifies(leaf: string): Promise<{ byPath: boolean; byBundle: boolean }> {
  const ok = (args: string[]) =>
    run('openssl', ['verify', ...args, leaf]).then(
      () => true,
      () => false,
    );
  return { byPath: await ok(['-no-CAfile', '-CApath', `${root}/etc/ssl/certs`]), byBundle: await ok(['-no-CApath', '-CAfile', `${root}/etc/ssl/certs/ca-certificates.crt`]) };
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

  it('falls back to update-ca-certificates without a bundle to add to, and only when the CA changed or is missing', async () => {
    await inFakeRoot(egressScript({ caPem: CA, variables: {} }));
    await inFakeRoot(egressScript({ caPem: CA, variables: {} }));
    expect(await trustStoreUpdates()).toBe(1);
    await inFakeRoot(egressScript({ caPem: CA.replace('MIIBtest', 'MIIBnew'), variables: {} }));
    expect(await trustStoreUpdates()).toBe(2);
    await rm(`${root}/etc/ssl/certs/xray-egress.pem`);
    await inFakeRoot(egressScript({ caPem: CA.replace('MIIBtest', 'MIIBnew'), variables: {} }));
    expect(await trustStoreUpdates()).toBe(3);
  });

  it('adds the CA to the Debian trust store as update-ca-certificates would, without running it, and replaces it when it changes', async () => {
    const first = await certificateAuthority('first');
    const second = await certificateAuthority('second');
    await run('mkdir', ['-p', `${root}/etc/ssl/certs`]);
    const other = await certificateAuthority('other');
    await writeFile(`${root}/etc/ssl/certs/ca-certificates.crt`, other.ca);
    await inFakeRoot(egressScript({ caPem: first.ca, variables: {} }));
    expect(await trustStoreUpdates()).toBe(0);
    expect(await verifies(first.leaf)).toEqual({ byPath: true, byBundle: true });
    expect(await verifies(other.leaf)).toEqual({ byPath: false, byBundle: true });

    await inFakeRoot(egressScript({ caPem: first.ca, variables: {} }));
    expect((await readFile(`${root}/etc/ssl/certs/ca-certificates.crt`, 'utf8')).match(/BEGIN CERTIFICATE/g)).toHaveLength(2);

    await inFakeRoot(egressScript({ caPem: second.ca, variables: {} }));
    expect(await verifies(second.leaf)).toEqual({ byPath: true, byBundle: true });
    expect(await verifies(first.leaf)).toEqual({ byPath: false, byBundle: false });
    expect(await trustStoreUpdates()).toBe(0);
  });

  it('refuses a variable it cannot write safely', () => {
    expect(() => egressScript({ caPem: CA, variables: { 'BAD NAME': 'x' } })).toThrow('cannot be written safely');
  });
});

// What the egress proxy verifies real servers against: the host's store plus one extra CA file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VmCertificateAuthority } from '../../../src-main/core/firewall/tls-ca';
import { upstreamTrust } from '../../../src-main/core/firewall/upstream-trust';

let dir: string;
let caPem: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-trust-'));
  caPem = (await VmCertificateAuthority.open('t', { key: join(dir, 'ca.key'), certificate: join(dir, 'ca.crt') })).certificatePem;
  await writeFile(join(dir, 'extra.pem'), caPem);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('upstreamTrust', () => {
  it('is the host store alone without an extra file', async () => {
    const trust = await upstreamTrust({ extraCaFile: null, env: {} });
    expect(trust.certificates.length).toBeGreaterThan(10);
    expect(trust.certificates).not.toContain(caPem.trim());
  });

  it('adds the certificates of upstream_ca_file to the host store', async () => {
    const base = await upstreamTrust({ extraCaFile: null, env: {} });
    const trust = await upstreamTrust({ extraCaFile: join(dir, 'extra.pem'), env: {} });
    expect(trust.certificates).toEqual([...base.certificates, caPem.trim()]);
    expect(trust.source).toBe(`${base.source} and ${join(dir, 'extra.pem')}`);
  });

  it('lets XRAY_UPSTREAM_CA_FILE override the setting', async () => {
    const trust = await upstreamTrust({ extraCaFile: join(dir, 'missing.pem'), env: { XRAY_UPSTREAM_CA_FILE: join(dir, 'extra.pem') } });
    expect(trust.certificates).toContain(caPem.trim());
  });

  it('refuses a file that cannot be read or holds no certificate, naming the setting', async () => {
    await expect(upstreamTrust({ extraCaFile: join(dir, 'missing.pem'), env: {} })).rejects.toThrow(`${join(dir, 'missing.pem')} (from upstream_ca_file) cannot be read (ENOENT); point upstream_ca_file at a PEM file of CA certificates.`);
    await writeFile(join(dir, 'empty.pem'), 'not a certificate\n');
    await expect(upstreamTrust({ extraCaFile: null, env: { XRAY_UPSTREAM_CA_FILE: join(dir, 'empty.pem') } })).rejects.toThrow(`${join(dir, 'empty.pem')} (from XRAY_UPSTREAM_CA_FILE) holds no readable PEM certificate; point XRAY_UPSTREAM_CA_FILE at a PEM file of CA certificates.`);
  });
});

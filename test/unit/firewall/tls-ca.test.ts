// A VM's certificate authority for egress interception: its files, and the server certificates it issues, checked by Node, OpenSSL and a real handshake.
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CaFiles, VmCertificateAuthority } from '../../../src-main/core/firewall/tls-ca';

let dir: string;
let files: CaFiles;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-ca-'));
  files = { key: join(dir, 'vm', 'egress-ca.key'), certificate: join(dir, 'vm', 'egress-ca.crt') };
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DAY = 24 * 3600_000;

describe('VmCertificateAuthority files', () => {
  it('makes an EC P-256 authority on first use, its key private to the user', async () => {
    const ca = await VmCertificateAuthority.open('box', files);
    expect((await stat(files.key)).mode & 0o777).toBe(0o600);
    const key = createPrivateKey(await readFile(files.key));
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const certificate = new X509Certificate(await readFile(files.certificate));
    expect(certificate.ca).toBe(true);
    expect(certificate.checkPrivateKey(key)).toBe(true);
    expect(certificate.subject).toContain('Xray egress CA for VM box');
    expect(ca.certificatePem).toBe(await readFile(files.certificate, 'utf8'));
  });

  it('loads the same authority the next time, and two processes opening it at once agree', async () => {
    const first = await VmCertificateAuthority.open('box', files);
    const again = await Promise.all([VmCertificateAuthority.open('box', files), VmCertificateAuthority.open('box', files)]);
    expect(again.map((ca) => ca.certificatePem)).toEqual([first.certificatePem, first.certificatePem]);
  });

  it('issues certificates that chain to the authority it loaded from the files', async () => {
    await VmCertificateAuthority.open('box', files);
    const loaded = await VmCertificateAuthority.open('box', files);
    const leaf = new X509Certificate(loaded.serverCertificate('api.github.com').certificatePem);
    expect(leaf.checkIssued(new X509Certificate(loaded.certificatePem))).toBe(true);
  });

  it('refuses a key that other users can read, saying how to fix it', async () => {
    await VmCertificateAuthority.open('box', files);
    await chmod(files.key, 0o644);
    await expect(VmCertificateAuthority.open('box', files)).rejects.toThrow(`${files.key} can be read by other users; run "chmod 600 ${files.key}" and try again.`);
  });

  it('refuses a key file that is a symbolic link', async () => {
    await VmCertificateAuthority.open('box', files);
    const elsewhere = join(dir, 'elsewhere.key');
    await writeFile(elsewhere, await readFile(files.key), { mode: 0o600 });
    await rm(files.key);
    await symlink(elsewhere, files.key);
    await expect(VmCertificateAuthority.open('box', files)).rejects.toThrow(/is not a plain file; remove it/);
  });

  it('makes a new authority when the one on disk ends within 30 days', async () => {
    const first = await VmCertificateAuthority.open('box', files);
    const late = Date.now() + 3640 * DAY;
    const renewed = await VmCertificateAuthority.open('box', files, { now: () => late });
    expect(renewed.certificatePem).not.toBe(first.certificatePem);
    expect(await readFile(files.certificate, 'utf8')).toBe(renewed.certificatePem);
  });
});

describe('server certificates', () => {
  let ca: VmCertificateAuthority;
  let caCert: X509Certificate;

  beforeEach(async () => {
    ca = await VmCertificateAuthority.open('box', files);
    caCert = new X509Certificate(ca.certificatePem);
  });

  it('names the host in the SAN, serves TLS only, and is signed by the authority', () => {
    const leaf = new X509Certificate(ca.serverCertificate('API.GitHub.com').certificatePem);
    expect(leaf.subjectAltName).toBe('DNS:api.github.com');
    expect(leaf.checkHost('api.github.com')).toBe('api.github.com');
    expect(leaf.checkHost('github.com')).toBeUndefined();
    expect(leaf.ca).toBe(false);
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.checkIssued(caCert)).toBe(true);
  });

  it.each([
    ['192.0.2.10', 'IP Address:192.0.2.10'],
    ['2001:db8::1', 'IP Address:2001:DB8:0:0:0:0:0:1'],
  ])('names an IP literal %s as an iPAddress', (ip, san) => {
    const leaf = new X509Certificate(ca.serverCertificate(ip).certificatePem);
    expect(leaf.subjectAltName).toBe(san);
    expect(leaf.checkIP(ip)).toBe(ip);
  });

  it('passes openssl verify as a TLS server certificate, a name longer than a common name allows included', async () => {
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}.example.com`;
    await writeFile(join(dir, 'ca.pem'), ca.certificatePem);
    await writeFile(join(dir, 'leaf.pem'), ca.serverCertificate('api.github.com').certificatePem);
    await writeFile(join(dir, 'long.pem'), ca.serverCertificate(long).certificatePem);
    await writeFile(join(dir, 'ip.pem'), ca.serverCertificate('2001:db8::1').certificatePem);
    const out = execFileSync('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem'), join(dir, 'long.pem'), join(dir, 'ip.pem')], { encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual([`${join(dir, 'leaf.pem')}: OK`, `${join(dir, 'long.pem')}: OK`, `${join(dir, 'ip.pem')}: OK`]);
    const hostCheck = execFileSync('openssl', ['verify', '-verify_hostname', long, '-CAfile', join(dir, 'ca.pem'), join(dir, 'long.pem')], { encoding: 'utf8' });
    expect(hostCheck.trim()).toBe(`${join(dir, 'long.pem')}: OK`);
  });

  it('is valid from an hour ago for a week, and is kept until a day before its end', async () => {
    let now = Date.now();
    const timed = await VmCertificateAuthority.open('box', files, { now: () => now });
    const first = timed.serverCertificate('api.github.com');
    const leaf = new X509Certificate(first.certificatePem);
    expect(Date.parse(leaf.validFrom)).toBeLessThanOrEqual(now - 3600_000 + 1000);
    expect(Date.parse(leaf.validTo) - now).toBeGreaterThan(7 * DAY - 2000);
    now += 5 * DAY;
    expect(timed.serverCertificate('api.github.com')).toBe(first);
    now += 1.5 * DAY;
    expect(timed.serverCertificate('api.github.com')).not.toBe(first);
  });

  it('refuses a name that is neither a host name nor an address', () => {
    expect(() => ca.serverCertificate('bad name')).toThrow('"bad name" is not a host name or IP address, so no certificate can be made for it; check the destination.');
  });

  it('completes a real TLS handshake for its host, and a client asking for another name refuses it', async () => {
    const answerAs = (name: string): string => (name === 'wrong.test' ? 'api.github.com' : name);
    const server = createServer({ SNICallback: (name, done) => done(null, ca.serverCertificate(answerAs(name)).context) }, (socket) => socket.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const talk = (servername: string): Promise<string> =>
      new Promise((resolve) => {
        const socket = connect({ host: '127.0.0.1', port, servername, ca: ca.certificatePem }, () => {
          socket.setEncoding('utf8');
          let text = '';
          socket.on('data', (chunk) => (text += chunk));
          socket.on('end', () => resolve(text));
        });
        socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
    try {
      expect(await talk('api.github.com')).toBe('hello');
      expect(await talk('wrong.test')).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      server.close();
    }
  });
});

// Runs in: plain Node (core).
import type { KeyObject } from 'node:crypto';
import { lstat, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type SecureContext, createSecureContext } from 'node:tls';
import { XrayError } from '../../shared/errors';
import { withFileLock } from '../store/file-lock';
import { serialized, writeFileAtomic } from '../store/toml-file';
import { canonicalIp, normalizeHostname } from './address';
import { encodeName, issueCertificate, keyIdentifier, subjectOf, toPem } from './x509';
import { nodeCrypto } from '../builtins';

/** CA_LIFETIME_DAYS is how long a VM's authority lasts; one closer than CA_RENEW_DAYS to its end is replaced. */
const CA_LIFETIME_DAYS = 3650;
const CA_RENEW_DAYS = 30;
/**
 * LEAF_LIFETIME_DAYS keeps server certificates short-lived (they live in
 * memory only and are issued again when a day from their end); well under
 * the 398 days some TLS clients accept at most.
 */
const LEAF_LIFETIME_DAYS = 7;
const LEAF_RENEW_MS = 24 * 3600_000;
/** BACKDATE_MS starts validity an hour early, so a guest clock a little behind the host's still accepts it. */
const BACKDATE_MS = 3600_000;
const DAY_MS = 24 * 3600_000;
/** LEAF_CACHE_SIZE bounds the server certificates kept per VM; the least recently used goes first. */
const LEAF_CACHE_SIZE = 512;

export interface CaFiles {
  /** key is the authority's private key (PKCS#8 PEM, mode 0600); it never leaves the host. */
  readonly key: string;
  /** certificate is the authority's certificate (PEM), which the guest's setup hooks install as trusted. */
  readonly certificate: string;
}

export interface ServerCertificate {
  readonly host: string;
  readonly certificatePem: string;
  readonly keyPem: string;
  readonly notAfter: Date;
  /** context is ready for a TLS server socket that answers as `host`. */
  readonly context: SecureContext;
}

export interface CaOptions {
  readonly now?: () => number;
}

/**
 * VmCertificateAuthority is one VM's certificate authority for egress
 * interception: an EC P-256 key and a self-signed certificate, made on first
 * use and kept in the VM's directory (the key 0600, refused if it is a link
 * or others can read it), and the server certificates it issues per host
 * name, made on demand and cached in memory only.
 */
export class VmCertificateAuthority {
  private readonly leaves = new Map<string, ServerCertificate>();
  private readonly now: () => number;
  private readonly keyId: Buffer;

  private constructor(
    private readonly key: KeyObject,
    /** name is the authority's subject as its certificate encodes it. */
    private readonly name: Buffer,
    /** certificatePem is the authority's certificate, for the guest's trust store. */
    readonly certificatePem: string,
    options: CaOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.keyId = keyIdentifier(key);
  }

  /**
   * open loads the VM's authority from `files`, or makes one when there is
   * none, or when the one there ends within CA_RENEW_DAYS (the guest's
   * setup hooks install the current certificate at every boot). Creation is
   * locked, so two processes opening it at once agree on one authority.
   */
  static async open(vm: string, files: CaFiles, options: CaOptions = {}): Promise<VmCertificateAuthority> {
    const now = options.now ?? Date.now;
    return serialized(files.key, async () => {
      await mkdir(dirname(files.key), { recursive: true, mode: 0o700 });
      return withFileLock(files.key, async () => {
        const existing = await loadAuthority(files, now());
        if (existing) return new VmCertificateAuthority(existing.key, existing.name, existing.certificatePem, options);
        const made = makeAuthority(vm, now());
        await writeFileAtomic(files.key, made.key.export({ type: 'pkcs8', format: 'pem' }), 0o600);
        await writeFileAtomic(files.certificate, made.certificatePem, 0o644);
        return new VmCertificateAuthority(made.key, made.name, made.certificatePem, options);
      });
    });
  }

  /**
   * serverCertificate returns the certificate answering as `host` (a DNS
   * name or an IP literal), issuing it when there is none in the cache or
   * the cached one ends within a day.
   */
  serverCertificate(host: string): ServerCertificate {
    const canonical = canonicalIp(host) ?? normalizeHostname(host);
    if (canonical === null) throw new XrayError('invalid-argument', `"${host}" is not a host name or IP address, so no certificate can be made for it; check the destination.`);
    const cached = this.leaves.get(canonical);
    if (cached && cached.notAfter.getTime() - this.now() > LEAF_RENEW_MS) {
      this.leaves.delete(canonical);
      this.leaves.set(canonical, cached);
      return cached;
    }
    const leaf = this.issue(canonical);
    this.leaves.delete(canonical);
    this.leaves.set(canonical, leaf);
    if (this.leaves.size > LEAF_CACHE_SIZE) {
      const oldest = this.leaves.keys().next().value;
      if (oldest !== undefined) this.leaves.delete(oldest);
    }
    return leaf;
  }

  private issue(host: string): ServerCertificate {
    const { privateKey, publicKey } = nodeCrypto().generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const notBefore = new Date(this.now() - BACKDATE_MS);
    const notAfter = new Date(this.now() + LEAF_LIFETIME_DAYS * DAY_MS);
    const der = issueCertificate({
      subject: { organization: 'Xray', commonName: host },
      subjectKey: publicKey,
      issuer: this.name,
      issuerKey: this.key,
      issuerKeyId: this.keyId,
      notBefore,
      notAfter,
      authority: false,
      host,
    });
    const certificatePem = toPem(der, 'CERTIFICATE');
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    return { host, certificatePem, keyPem, notAfter, context: createSecureContext({ key: keyPem, cert: certificatePem }) };
  }
}

interface Authority {
  readonly key: KeyObject;
  readonly name: Buffer;
  readonly certificatePem: string;
}

function makeAuthority(vm: string, now: number): Authority {
  const { privateKey, publicKey } = nodeCrypto().generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const stamp = new Date(now).toISOString().slice(0, 10);
  const subject = { organization: 'Xray', commonName: `Xray egress CA for VM ${vm}, ${stamp}` };
  const name = encodeName(subject);
  const der = issueCertificate({
    subject,
    subjectKey: publicKey,
    issuer: name,
    issuerKey: privateKey,
    issuerKeyId: keyIdentifier(publicKey),
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + CA_LIFETIME_DAYS * DAY_MS),
    authority: true,
  });
  return { key: privateKey, name, certificatePem: toPem(der, 'CERTIFICATE') };
}

/**
 * loadAuthority reads an existing authority, or returns null when there is
 * none to use: a file missing, a certificate that does not go with the key,
 * or one that ends within CA_RENEW_DAYS. A key file that is a link or that
 * others may read is refused: the key signs for every host the VM reaches.
 */
async function loadAuthority(files: CaFiles, now: number): Promise<Authority | null> {
  let info;
  try {
    info = await lstat(files.key);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (!info.isFile()) throw new XrayError('corrupt', `${files.key} is not a plain file; remove it so Xray can make a new certificate authority.`);
  if ((info.mode & 0o077) !== 0) throw new XrayError('corrupt', `${files.key} can be read by other users; run "chmod 600 ${files.key}" and try again.`);
  let certificatePem: string;
  try {
    certificatePem = await readFile(files.certificate, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const key = nodeCrypto().createPrivateKey(await readFile(files.key));
  const certificate = new (nodeCrypto().X509Certificate)(certificatePem);
  if (!certificate.ca || !certificate.checkPrivateKey(key)) return null;
  if (Date.parse(certificate.validTo) - now < CA_RENEW_DAYS * DAY_MS) return null;
  return { key, name: subjectOf(certificate.raw), certificatePem };
}

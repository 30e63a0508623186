// Runs in: plain Node (core).
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { nodeCrypto } from '../builtins';

/**
 * x509.ts writes the two kinds of certificate the egress proxy needs, a VM's
 * certificate authority and a server certificate per host name, as DER by
 * hand over node:crypto (EC P-256 keys, ECDSA with SHA-256). It covers
 * exactly those two shapes and nothing else: no parsing, no other key types.
 * Why by hand: measured against @peculiar/x509 and node-forge, it is the
 * fastest and adds no dependency (docs/ARCHITECTURE.md, "Egress for agents").
 */

/** tlv is one DER element: tag, definite length, content. */
function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const octets = (content: Buffer): Buffer => tlv(0x04, content);
const bits = (content: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.concat([Buffer.from([unused]), content]));
const utf8 = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
const boolean = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
/** explicit wraps `content` in a constructed context tag [n]. */
const explicit = (n: number, content: Buffer): Buffer => tlv(0xa0 | n, content);

/** integer encodes a non-negative big-endian magnitude as a DER INTEGER (minimal, with a 0 byte when the top bit is set). */
function integer(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const arc of rest) {
    const base128: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v & 0x7f));
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

/** time is UTCTime up to 2049 and GeneralizedTime from 2050 on, as RFC 5280 section 4.1.2.5 requires. */
function time(date: Date): Buffer {
  const iso = date.toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'latin1')) : tlv(0x18, Buffer.from(digits, 'latin1'));
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

/** UB_COMMON_NAME is RFC 5280's upper bound on a common name; a longer host name lives in the SAN alone. */
const UB_COMMON_NAME = 64;

export interface DistinguishedName {
  readonly organization: string;
  readonly commonName: string | null;
}

/** encodeName is a distinguished name as DER: O, then CN when it fits RFC 5280's bound. */
export function encodeName(dn: DistinguishedName): Buffer {
  const rdns = [set(sequence(oid(OID.organization), utf8(dn.organization)))];
  if (dn.commonName !== null && dn.commonName.length <= UB_COMMON_NAME) rdns.push(set(sequence(oid(OID.commonName), utf8(dn.commonName))));
  return sequence(...rdns);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octets(value));
}

/** keyIdentifier is the SHA-1 of the public key's point (RFC 5280 section 4.2.1.2, method 1); `key` may be either half. */
export function keyIdentifier(key: KeyObject): Buffer {
  // A P-256 SubjectPublicKeyInfo ends with the uncompressed point: 0x04, x, y.
  // (A JWK export would give x and y too, but on Node 20 it can deadlock the
  // process when a garbage collection runs during it.)
  const publicKey = key.type === 'private' ? nodeCrypto().createPublicKey(key) : key;
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const point = spki.subarray(-P256_POINT_BYTES);
  if (spki.length !== P256_SPKI_BYTES || point[0] !== 0x04) throw new Error('keyIdentifier takes an uncompressed P-256 public key.');
  return nodeCrypto().createHash('sha1').update(point).digest();
}

/** P256_POINT_BYTES is an uncompressed P-256 point (0x04, x, y); P256_SPKI_BYTES its SubjectPublicKeyInfo. */
const P256_POINT_BYTES = 65;
const P256_SPKI_BYTES = 91;

/** subjectAltName lists a host as a dNSName, or an IP literal as an iPAddress. */
function subjectAltName(host: string): Buffer {
  const family = isIP(host);
  if (family === 0) return sequence(tlv(0x82, Buffer.from(host, 'latin1')));
  return sequence(tlv(0x87, ipOctets(host, family)));
}

function ipOctets(ip: string, family: number): Buffer {
  if (family === 4) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.includes('::') ? ip.split('::') : [ip, ''];
  const groups = (text: string): string[] => (text === '' ? [] : text.split(':'));
  const h = groups(head);
  const t = groups(tail);
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  all.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}

export interface CertificateRequest {
  readonly subject: DistinguishedName;
  readonly subjectKey: KeyObject;
  /** issuer is the issuer's subject exactly as its certificate encodes it (see subjectOf). */
  readonly issuer: Buffer;
  readonly issuerKey: KeyObject;
  /** issuerKeyId is the issuer's subject key identifier, for the authority key identifier. */
  readonly issuerKeyId: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** authority makes a CA certificate (path length 0: it signs server certificates only); otherwise `host` is required. */
  readonly authority: boolean;
  /** host is the server certificate's one name (dNSName, or iPAddress for an IP literal). */
  readonly host?: string;
}

/**
 * issueCertificate returns a DER certificate. A CA gets basicConstraints
 * cA (critical, pathLen 0) and keyCertSign + cRLSign; a server certificate
 * gets cA false, digitalSignature, serverAuth and its name in the SAN. Both
 * carry key identifiers, and a random 127-bit serial.
 */
export function issueCertificate(request: CertificateRequest): Buffer {
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const subjectKeyId = keyIdentifier(request.subjectKey);
  const extensions: Buffer[] = [];
  if (request.authority) {
    extensions.push(extension(OID.basicConstraints, true, sequence(boolean(true), integer(Buffer.from([0])))));
    // keyCertSign (bit 5) and cRLSign (bit 6): 0b0000_0110, its last bit unused.
    extensions.push(extension(OID.keyUsage, true, bits(Buffer.from([0x06]), 1)));
  } else {
    if (request.host === undefined) throw new Error('A server certificate needs a host name.');
    extensions.push(extension(OID.basicConstraints, true, sequence()));
    // digitalSignature (bit 0): 0b1000_0000, seven bits unused.
    extensions.push(extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7)));
    extensions.push(extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))));
    extensions.push(extension(OID.subjectAltName, false, subjectAltName(request.host)));
  }
  extensions.push(extension(OID.subjectKeyIdentifier, false, octets(subjectKeyId)));
  extensions.push(extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, request.authority ? subjectKeyId : request.issuerKeyId))));
  const serial = nodeCrypto().randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    request.issuer,
    sequence(time(request.notBefore), time(request.notAfter)),
    encodeName(request.subject),
    request.subjectKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions)),
  );
  const signature = nodeCrypto().sign('sha256', tbs, { key: request.issuerKey, dsaEncoding: 'der' });
  return sequence(tbs, algorithm, bits(signature));
}

/**
 * subjectOf returns the subject Name of a DER certificate as the bytes it
 * holds, so certificates an authority issues name it exactly as its own
 * certificate does (a client matches issuer to subject byte for byte).
 */
export function subjectOf(certificate: Buffer): Buffer {
  const element = (buf: Buffer, at: number): { start: number; end: number; content: number } => {
    const first = buf[at + 1] ?? 0;
    let length = first;
    let header = 2;
    if (first & 0x80) {
      length = 0;
      for (let i = 0; i < (first & 0x7f); i++) length = length * 256 + (buf[at + 2 + i] ?? 0);
      header += first & 0x7f;
    }
    if (at + header + length > buf.length) throw new Error('The certificate is truncated.');
    return { start: at, content: at + header, end: at + header + length };
  };
  const tbs = element(certificate, element(certificate, 0).content);
  // version [0], serialNumber, signature, issuer, validity, then subject.
  let at = tbs.content;
  for (let skipped = 0; skipped < 5; skipped++) at = element(certificate, at).end;
  const subject = element(certificate, at);
  return certificate.subarray(subject.start, subject.end);
}

/** toPem wraps DER in PEM armour with the given label. */
export function toPem(der: Buffer, label: 'CERTIFICATE'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

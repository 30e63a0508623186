// Runs in: plain Node (core).
import { normalizeHostname } from './address';

/**
 * sniff.ts reads a destination name from the first bytes a client sends: the
 * server name (SNI) of a TLS ClientHello, or the Host header of an HTTP/1
 * request. Both functions are pure, bounds-checked and return null on anything
 * they do not fully understand; the bytes come from an untrusted guest.
 */

const TLS_HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;
const HOST_NAME = 0x00;

/**
 * tlsHandshakeBytes joins the payloads of the consecutive TLS handshake
 * records at the start of `buf` (a ClientHello may span several records).
 * Returns null when `buf` does not start with a handshake record.
 */
function tlsHandshakeBytes(buf: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 5 <= buf.length && buf[offset] === TLS_HANDSHAKE && buf[offset + 1] === 0x03) {
    const length = buf.readUInt16BE(offset + 3);
    const end = Math.min(buf.length, offset + 5 + length);
    parts.push(buf.subarray(offset + 5, end));
    offset += 5 + length;
  }
  return parts.length === 0 ? null : Buffer.concat(parts);
}

/** looksLikeTls tells whether `buf` starts like a TLS handshake record. */
export function looksLikeTls(buf: Buffer): boolean {
  return buf.length >= 1 && buf[0] === TLS_HANDSHAKE && (buf.length < 2 || buf[1] === 0x03);
}

/**
 * tlsHelloComplete tells whether the ClientHello in `buf` has fully arrived,
 * so a sniffer knows to stop waiting for more bytes.
 */
export function tlsHelloComplete(buf: Buffer): boolean {
  const hs = tlsHandshakeBytes(buf);
  if (!hs || hs.length < 4) return false;
  return hs.length >= 4 + hs.readUIntBE(1, 3);
}

/** parseTlsSni returns the host name a TLS ClientHello asks for, or null. */
export function parseTlsSni(buf: Buffer): string | null {
  const ext = helloExtension(buf, EXT_SERVER_NAME);
  return ext === null ? null : parseServerNameList(ext);
}

/**
 * parseTlsAlpn returns the application protocols a TLS ClientHello offers
 * (ALPN, RFC 7301), in the client's order: an empty list when it offers
 * none, null when `buf` is not a ClientHello that can be read.
 */
export function parseTlsAlpn(buf: Buffer): string[] | null {
  const hs = tlsHandshakeBytes(buf);
  if (!hs || hs.length < 4 || hs[0] !== CLIENT_HELLO) return null;
  const ext = helloExtension(buf, EXT_ALPN);
  if (ext === null) return [];
  if (ext.length < 2) return null;
  const end = Math.min(ext.length, 2 + ext.readUInt16BE(0));
  const protocols: string[] = [];
  for (let p = 2; p < end; ) {
    const length = ext[p] ?? 0;
    if (length === 0 || p + 1 + length > end) return null;
    protocols.push(ext.toString('latin1', p + 1, p + 1 + length));
    p += 1 + length;
  }
  return protocols;
}

/** helloExtension returns the body of extension `type` in a TLS ClientHello, or null when it is absent or unreadable. */
function helloExtension(buf: Buffer, type: number): Buffer | null {
  const hs = tlsHandshakeBytes(buf);
  if (!hs || hs.length < 4 || hs[0] !== CLIENT_HELLO) return null;
  const end = Math.min(hs.length, 4 + hs.readUIntBE(1, 3));
  let p = 4 + 2 + 32; // handshake header, client_version, random
  if (p + 1 > end) return null;
  p += 1 + (hs[p] ?? 0); // session_id
  if (p + 2 > end) return null;
  p += 2 + hs.readUInt16BE(p); // cipher_suites
  if (p + 1 > end) return null;
  p += 1 + (hs[p] ?? 0); // compression_methods
  if (p + 2 > end) return null;
  const extEnd = Math.min(end, p + 2 + hs.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd) {
    const extType = hs.readUInt16BE(p);
    const length = hs.readUInt16BE(p + 2);
    p += 4;
    if (p + length > extEnd) return null;
    if (extType === type) return hs.subarray(p, p + length);
    p += length;
  }
  return null;
}

function parseServerNameList(ext: Buffer): string | null {
  if (ext.length < 2) return null;
  const end = Math.min(ext.length, 2 + ext.readUInt16BE(0));
  let p = 2;
  while (p + 3 <= end) {
    const type = ext[p];
    const length = ext.readUInt16BE(p + 1);
    p += 3;
    if (p + length > end) return null;
    if (type === HOST_NAME) return normalizeHostname(ext.toString('latin1', p, p + length));
    p += length;
  }
  return null;
}

const HTTP_REQUEST_LINE = /^[A-Z]{3,10} \S+ HTTP\/1\.[01]\r?\n/;

/** looksLikeHttp tells whether `buf` starts like an HTTP/1 request line. */
export function looksLikeHttp(buf: Buffer): boolean {
  const head = buf.toString('latin1', 0, Math.min(buf.length, 8));
  return /^[A-Z]{3,10}( |$)/.test(head) || /^[A-Z]{1,8}$/.test(head);
}

/** httpHeadComplete tells whether the request head (up to the blank line) has arrived. */
export function httpHeadComplete(buf: Buffer): boolean {
  return buf.indexOf('\r\n\r\n') !== -1 || buf.indexOf('\n\n') !== -1;
}

/**
 * parseHttpHost returns the host of an HTTP/1 request's Host header (port and
 * brackets dropped), or null when there is none or it is an IP literal: an IP
 * says nothing the connection's address does not already say.
 */
export function parseHttpHost(buf: Buffer): string | null {
  const text = buf.toString('latin1');
  if (!HTTP_REQUEST_LINE.test(text)) return null;
  const headEnd = text.search(/\r?\n\r?\n/);
  const head = headEnd === -1 ? text : text.slice(0, headEnd);
  for (const line of head.split(/\r?\n/).slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0 || line.slice(0, colon).trim().toLowerCase() !== 'host') continue;
    const value = line.slice(colon + 1).trim();
    if (value.startsWith('[')) return null;
    const host = value.includes(':') ? value.slice(0, value.lastIndexOf(':')) : value;
    return normalizeHostname(host);
  }
  return null;
}

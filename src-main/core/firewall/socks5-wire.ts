// Runs in: plain Node (core).
import { canonicalIp, normalizeHostname } from './address';

/**
 * socks5-wire.ts is the SOCKS5 handshake as bytes (RFC 1928): what a client's
 * greeting and request say, and the replies sent back. Pure functions, no
 * sockets; the bytes come from an untrusted guest.
 */

/** Reply codes of RFC 1928 section 6. */
export const REPLY = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

/**
 * HANDSHAKE_CAP bounds the bytes a handshake may take. The largest greeting
 * (257 bytes) and request (262) RFC 1928 allows fit with room to spare;
 * anything longer is not a SOCKS5 client.
 */
export const HANDSHAKE_CAP = 600;

const VERSION = 0x05;
const NO_AUTHENTICATION = 0x00;
const CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** METHOD_NO_AUTH answers a greeting that offers "no authentication", the only method served. */
export const METHOD_NO_AUTH = Buffer.from([VERSION, NO_AUTHENTICATION]);
/** METHOD_NONE_ACCEPTABLE answers a greeting that does not offer it. */
export const METHOD_NONE_ACCEPTABLE = Buffer.from([VERSION, 0xff]);

/**
 * replyBytes encodes a reply to a request. The bound address is always
 * 0.0.0.0:0: clients of a CONNECT have no use for the proxy's own end.
 */
export function replyBytes(code: number): Buffer {
  return Buffer.from([VERSION, code, 0x00, ATYP_IPV4, 0, 0, 0, 0, 0, 0]);
}

/** SUCCESS_REPLY is the reply that opens the relay. */
export const SUCCESS_REPLY = replyBytes(REPLY.succeeded);

/** HandshakeTarget is where a CONNECT asks to go: a canonical IP, or a normalized host name when isDomain. */
export interface HandshakeTarget {
  readonly host: string;
  readonly port: number;
  /** isDomain is true for a DOMAINNAME request, even one that spells an IP address. */
  readonly isDomain: boolean;
}

/**
 * Handshake is what the bytes a client has sent so far amount to. `greeted`
 * says the greeting is complete and offers no authentication, so the client
 * is owed METHOD_NO_AUTH before anything else is said.
 *  - incomplete: wait for more bytes;
 *  - invalid: not SOCKS5, a malformed request, or more than HANDSHAKE_CAP
 *    bytes: close without a reply;
 *  - no-acceptable-method: answer METHOD_NONE_ACCEPTABLE and close;
 *  - refused: a well-formed request that is not served: answer `reply` and close;
 *  - connect: a CONNECT to serve; `early` is what the client sent after it.
 */
export type Handshake =
  | { readonly kind: 'incomplete'; readonly greeted: boolean }
  | { readonly kind: 'invalid'; readonly greeted: boolean }
  | { readonly kind: 'no-acceptable-method'; readonly greeted: false }
  | { readonly kind: 'refused'; readonly greeted: true; readonly reply: number }
  | { readonly kind: 'connect'; readonly greeted: true; readonly target: HandshakeTarget; readonly early: Buffer };

/** parseHandshake reads a greeting and a request from everything a client has sent so far. */
export function parseHandshake(buf: Buffer): Handshake {
  if (buf.length > HANDSHAKE_CAP) return { kind: 'invalid', greeted: false };
  if (buf.length < 2) return { kind: 'incomplete', greeted: false };
  if (buf[0] !== VERSION) return { kind: 'invalid', greeted: false };
  const greetingEnd = 2 + (buf[1] ?? 0);
  if (buf.length < greetingEnd) return { kind: 'incomplete', greeted: false };
  if (!buf.subarray(2, greetingEnd).includes(NO_AUTHENTICATION)) return { kind: 'no-acceptable-method', greeted: false };
  return parseRequest(buf, greetingEnd);
}

/** parseRequest reads the request that starts at `at`, once the greeting was accepted. */
function parseRequest(buf: Buffer, at: number): Handshake {
  if (buf.length < at + 4) return { kind: 'incomplete', greeted: true };
  if (buf[at] !== VERSION || buf[at + 2] !== 0x00) return { kind: 'invalid', greeted: true };
  const type = buf[at + 3];
  let host: string | null;
  let portAt: number;
  if (type === ATYP_IPV4) {
    portAt = at + 8;
    if (buf.length < portAt + 2) return { kind: 'incomplete', greeted: true };
    host = `${buf[at + 4]}.${buf[at + 5]}.${buf[at + 6]}.${buf[at + 7]}`;
  } else if (type === ATYP_IPV6) {
    portAt = at + 20;
    if (buf.length < portAt + 2) return { kind: 'incomplete', greeted: true };
    const groups: string[] = [];
    for (let i = at + 4; i < portAt; i += 2) groups.push(buf.readUInt16BE(i).toString(16));
    host = canonicalIp(groups.join(':'));
  } else if (type === ATYP_DOMAIN) {
    if (buf.length < at + 5) return { kind: 'incomplete', greeted: true };
    portAt = at + 5 + (buf[at + 4] ?? 0);
    if (buf.length < portAt + 2) return { kind: 'incomplete', greeted: true };
    const raw = buf.toString('latin1', at + 5, portAt);
    host = canonicalIp(raw) ?? normalizeHostname(raw);
  } else {
    return { kind: 'refused', greeted: true, reply: REPLY.addressTypeNotSupported };
  }
  if (buf[at + 1] !== CONNECT) return { kind: 'refused', greeted: true, reply: REPLY.commandNotSupported };
  if (host === null) return { kind: 'refused', greeted: true, reply: REPLY.hostUnreachable };
  const port = buf.readUInt16BE(portAt);
  if (port === 0) return { kind: 'refused', greeted: true, reply: REPLY.generalFailure };
  return { kind: 'connect', greeted: true, target: { host, port, isDomain: type === ATYP_DOMAIN }, early: buf.subarray(portAt + 2) };
}

/** replyForError maps a connect error to the closest RFC 1928 reply code. */
export function replyForError(code: string | undefined): number {
  switch (code) {
    case 'ECONNREFUSED':
      return REPLY.connectionRefused;
    case 'ENETUNREACH':
      return REPLY.networkUnreachable;
    case 'EHOSTUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return REPLY.hostUnreachable;
    case 'ETIMEDOUT':
      return REPLY.ttlExpired;
    default:
      return REPLY.generalFailure;
  }
}

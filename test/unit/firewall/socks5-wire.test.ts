import { describe, expect, it } from 'vitest';
import { HANDSHAKE_CAP, type Handshake, REPLY, parseHandshake, replyBytes, replyForError } from '../../../src-main/core/firewall/socks5-wire';

const GREETING = [0x05, 0x01, 0x00];
const port = (n: number): number[] => [n >> 8, n & 0xff];
const ipv4 = (a: number, b: number, c: number, d: number, p = 80): number[] => [0x05, 0x01, 0x00, 0x01, a, b, c, d, ...port(p)];
const domain = (name: string, p = 443, command = 0x01): number[] => [0x05, command, 0x00, 0x03, name.length, ...Buffer.from(name, 'latin1'), ...port(p)];
const ipv6 = (groups: number[], p = 443): number[] => [0x05, 0x01, 0x00, 0x04, ...groups.flatMap((g) => [g >> 8, g & 0xff]), ...port(p)];
const handshake = (...parts: number[][]): Buffer => Buffer.from(parts.flat());

const connect = (host: string, p: number, isDomain: boolean, early = ''): Handshake => ({
  kind: 'connect',
  greeted: true,
  target: { host, port: p, isDomain },
  early: Buffer.from(early),
});

describe('parseHandshake', () => {
  const cases: [string, Buffer, Handshake][] = [
    ['nothing yet', handshake(), { kind: 'incomplete', greeted: false }],
    ['half a greeting', handshake([0x05]), { kind: 'incomplete', greeted: false }],
    ['a greeting still missing a method', handshake([0x05, 0x02, 0x00]), { kind: 'incomplete', greeted: false }],
    ['a greeting alone, which owes the method reply', handshake(GREETING), { kind: 'incomplete', greeted: true }],
    ['a SOCKS4 greeting', handshake([0x04, 0x01, 0x00]), { kind: 'invalid', greeted: false }],
    ['a greeting offering only username/password', handshake([0x05, 0x01, 0x02]), { kind: 'no-acceptable-method', greeted: false }],
    ['no authentication among several methods', handshake([0x05, 0x03, 0x02, 0x01, 0x00], ipv4(10, 0, 0, 1)), connect('10.0.0.1', 80, false)],
    ['an IPv4 CONNECT', handshake(GREETING, ipv4(93, 184, 216, 34, 8080)), connect('93.184.216.34', 8080, false)],
    ['an IPv4 CONNECT with the first bytes behind it', handshake(GREETING, ipv4(10, 0, 0, 1), [...Buffer.from('GET /')]), connect('10.0.0.1', 80, false, 'GET /')],
    ['an IPv6 CONNECT, canonical', handshake(GREETING, ipv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])), connect('2001:db8::1', 443, false)],
    ['an IPv4-mapped IPv6 CONNECT, as IPv4', handshake(GREETING, ipv6([0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0001])), connect('10.0.0.1', 443, false)],
    ['a domain CONNECT, normalized', handshake(GREETING, domain('Example.COM.')), connect('example.com', 443, true)],
    ['a domain that spells an address', handshake(GREETING, domain('10.0.0.1')), connect('10.0.0.1', 443, true)],
    ['a domain no host can have', handshake(GREETING, domain('bad name!')), { kind: 'refused', greeted: true, reply: REPLY.hostUnreachable }],
    ['an empty domain', handshake(GREETING, domain('')), { kind: 'refused', greeted: true, reply: REPLY.hostUnreachable }],
    ['half a request', handshake(GREETING, [0x05, 0x01, 0x00]), { kind: 'incomplete', greeted: true }],
    ['an IPv4 request without its port', handshake(GREETING, ipv4(10, 0, 0, 1).slice(0, 8)), { kind: 'incomplete', greeted: true }],
    ['a domain request without its length', handshake(GREETING, [0x05, 0x01, 0x00, 0x03]), { kind: 'incomplete', greeted: true }],
    ['a domain request cut inside the name', handshake(GREETING, domain('example.com').slice(0, 9)), { kind: 'incomplete', greeted: true }],
    ['a request of another version', handshake(GREETING, [0x04, ...ipv4(10, 0, 0, 1).slice(1)]), { kind: 'invalid', greeted: true }],
    ['a request with its reserved byte set', handshake(GREETING, [0x05, 0x01, 0x01, ...ipv4(10, 0, 0, 1).slice(3)]), { kind: 'invalid', greeted: true }],
    ['an unknown address type', handshake(GREETING, [0x05, 0x01, 0x00, 0x09, 1, 2, 3, 4, 0, 80]), { kind: 'refused', greeted: true, reply: REPLY.addressTypeNotSupported }],
    ['an unknown address type for BIND, type first', handshake(GREETING, [0x05, 0x02, 0x00, 0x09]), { kind: 'refused', greeted: true, reply: REPLY.addressTypeNotSupported }],
    ['BIND', handshake(GREETING, domain('example.com', 443, 0x02)), { kind: 'refused', greeted: true, reply: REPLY.commandNotSupported }],
    ['UDP ASSOCIATE', handshake(GREETING, domain('example.com', 443, 0x03)), { kind: 'refused', greeted: true, reply: REPLY.commandNotSupported }],
    ['port 0', handshake(GREETING, ipv4(10, 0, 0, 1, 0)), { kind: 'refused', greeted: true, reply: REPLY.generalFailure }],
    ['more than the cap', Buffer.alloc(HANDSHAKE_CAP + 1, 0x05), { kind: 'invalid', greeted: false }],
  ];

  it.each(cases)('%s', (_name, bytes, expected) => {
    expect(parseHandshake(bytes)).toEqual(expected);
  });

  it('reads the largest handshake RFC 1928 allows (255 methods, a 255-byte name) as a request, not as oversize', () => {
    const methods = [0x05, 0xff, ...Array.from({ length: 255 }, (_, i) => 0xfe - i)];
    const name = Array.from({ length: 4 }, () => 'a'.repeat(63)).join('.');
    expect(name).toHaveLength(255);
    // No host name is that long (253 at most), so it is refused by its reply code.
    expect(parseHandshake(handshake(methods, domain(name)))).toEqual({ kind: 'refused', greeted: true, reply: REPLY.hostUnreachable });
  });

  it('reads every prefix of a handshake as incomplete, owing the method reply from the greeting on', () => {
    const bytes = handshake(GREETING, domain('example.com'));
    for (let length = 0; length < bytes.length; length++) {
      expect(parseHandshake(bytes.subarray(0, length))).toEqual({ kind: 'incomplete', greeted: length >= GREETING.length });
    }
  });
});

describe('replyBytes', () => {
  it('encodes a reply with the bound address 0.0.0.0:0', () => {
    expect([...replyBytes(REPLY.notAllowed)]).toEqual([0x05, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
  });
});

describe('replyForError', () => {
  it.each([
    ['ECONNREFUSED', REPLY.connectionRefused],
    ['ENETUNREACH', REPLY.networkUnreachable],
    ['EHOSTUNREACH', REPLY.hostUnreachable],
    ['ENOTFOUND', REPLY.hostUnreachable],
    ['EAI_AGAIN', REPLY.hostUnreachable],
    ['ETIMEDOUT', REPLY.ttlExpired],
    ['EPIPE', REPLY.generalFailure],
    [undefined, REPLY.generalFailure],
  ])('maps %s to %i', (code, reply) => {
    expect(replyForError(code)).toBe(reply);
  });
});

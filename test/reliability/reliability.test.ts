// The reliability suite: the firewall, its DNS, the control socket and the
// rule files under hostile and careless use, on loopback only and bounded in
// time. Each test asserts what a user relies on and adds its figures to the
// table printed at the end (hostile inputs tried, connections held, file
// descriptors and memory before and after, rules written vs acknowledged).
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ControlClient } from '../../src-main/core/control/client';
import { ControlServer } from '../../src-main/core/control/server';
import type { DnsResolver } from '../../src-main/core/firewall/dns';
import { DnsServer } from '../../src-main/core/firewall/dns-server';
import { NameCache } from '../../src-main/core/firewall/name-cache';
import { PromptBroker } from '../../src-main/core/firewall/prompts';
import { RuleStore } from '../../src-main/core/firewall/rule-store';
import { parseRuleTarget } from '../../src-main/core/firewall/rule-target';
import { RuleSet } from '../../src-main/core/firewall/rules';
import { REPLY } from '../../src-main/core/firewall/socks5';
import { VmFirewall } from '../../src-main/core/firewall/vm-firewall';
import { VmStore } from '../../src-main/core/store/vm-store';
import type { XrayApi, XrayEvent } from '../../src-main/shared/contract';
import { addFirmwareOnlyVm, makeTestHome } from '../helpers/home';
import { Reader, requestBytes, socksConnect } from '../unit/firewall/helpers';

const figures: [string, string][] = [];

afterAll(() => {
  const width = Math.max(...figures.map(([name]) => name.length));
  console.log(`\nReliability figures\n${figures.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join('\n')}\n`);
});

/** openFds counts this process's open file descriptors (Linux). */
function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

function rssMiB(): string {
  return `${(process.memoryUsage().rss / 2 ** 20).toFixed(1)} MiB`;
}

async function settle(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** fakeResolver answers every name under .test with one address outside the host. */
const fakeResolver: DnsResolver = {
  resolve4: async (name) => {
    if (name.endsWith('.test')) return [{ address: '198.18.255.1', ttl: 30 }];
    throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  },
  resolve6: async () => {
    throw Object.assign(new Error('no data'), { code: 'ENODATA' });
  },
};

/** firewall starts a VM firewall on loopback TCP with a broker whose limits the test chooses. */
async function firewall(limits: { perDestination?: number; perVm?: number } = {}) {
  const events: XrayEvent[] = [];
  const broker = new PromptBroker({
    emit: (e) => events.push(e),
    clientCount: () => 1,
    rulesFor: () => null,
    persist: async () => {},
    maxWaitingPerDestination: limits.perDestination,
    maxWaitingPerVm: limits.perVm,
  });
  const rules = new RuleSet();
  const fw = new VmFirewall({
    vm: 'hostile',
    proxySocket: '',
    dnsSocket: '',
    rules,
    broker,
    nameCache: new NameCache(),
    emit: (e) => events.push(e),
    dnsResolver: fakeResolver,
    tcpPorts: { proxy: 0, dns: 0 },
    socks: { handshakeTimeoutMs: 500, sniffTimeoutMs: 100 },
  });
  await fw.start();
  return { fw, broker, rules, events, proxy: { port: fw.ports.proxy as number } };
}

/** hostile is one malformed or abusive thing a guest could send the proxy. */
function hostile(i: number): Buffer {
  switch (i % 8) {
    case 0:
      return randomBytes(1 + (i % 600));
    case 1:
      return Buffer.from([0x04, 0x01, 0x00, 0x50, 127, 0, 0, 1, 0]); // SOCKS4
    case 2:
      return Buffer.from([0x05, 0xff, ...randomBytes(255)]); // greeting that claims 255 methods
    case 3:
      return Buffer.from([0x05, 0x01, 0x00, 0x05, 0x09, 0x00, 0x03, 0xff, ...randomBytes(100)]); // oversize domain length
    case 4:
      return Buffer.from([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x01, 127, 0, 0, 1]); // loopback, truncated port
    case 5:
      return Buffer.from([0x05, 0x01, 0x00, 0x05, 0x02, 0x00, 0x01, 198, 18, 0, 1, 0, 80]); // BIND
    case 6:
      return Buffer.from([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x07, ...randomBytes(30)]); // unknown address type
    default:
      return Buffer.from([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x03, 0x09, ...Buffer.from('localhost'), 0x1f, 0x90]); // a name for the host
  }
}

/** send writes one input and hangs up after a moment, as a client that gives up would. */
function send(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.on('connect', () => socket.end(bytes));
    socket.setTimeout(1000, () => socket.destroy());
  });
}

describe('reliability', () => {
  it('survives hostile SOCKS5 input without crashing or reaching the host, and frees what it took', async () => {
    const hostService: Server = createServer((socket) => socket.destroy());
    let reachedHost = 0;
    hostService.on('connection', () => reachedHost++);
    await new Promise<void>((resolve) => hostService.listen(8080, '127.0.0.1', () => resolve()));
    const { fw, rules, proxy } = await firewall();
    rules.add({ target: parseRuleTarget('still-works.test'), action: 'deny', lifetime: { kind: 'until-stop' } });
    const fdsBefore = openFds();
    const rssBefore = rssMiB();
    const tries = 3000;
    for (let batch = 0; batch < tries; batch += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => send(proxy.port, hostile(batch + i))));
    }
    await settle(() => fw.openConnections === 0);
    // A well-formed request after all that is still answered (here: refused by its rule, at once).
    const good = await socksConnect(proxy, { domain: 'still-works.test' }, 80);
    expect(good.reply).toBe(REPLY.notAllowed);
    good.socket.destroy();
    await settle(() => fw.openConnections === 0);
    expect(reachedHost).toBe(0);
    expect(fw.openConnections).toBe(0);
    expect(openFds()).toBeLessThanOrEqual(fdsBefore + 2);
    figures.push(['hostile SOCKS5 inputs tried', `${tries}; crashes 0; reached the host ${reachedHost}`]);
    figures.push(['proxy fds / RSS before → after', `${fdsBefore} → ${openFds()} / ${rssBefore} → ${rssMiB()}`]);
    await fw.stop();
    await new Promise<void>((resolve) => hostService.close(() => resolve()));
  }, 120_000);

  it('holds connections on prompts only up to its caps, and answers other destinations meanwhile', async () => {
    const { fw, broker, rules, proxy } = await firewall({ perDestination: 50, perVm: 200 });
    rules.add({ target: parseRuleTarget('allowed.test'), action: 'deny', lifetime: { kind: 'until-stop' } });
    const fdsBefore = openFds();
    const held: Socket[] = [];
    let refusedAtOnce = 0;
    for (let i = 0; i < 300; i++) {
      const socket = connect({ port: proxy.port, host: '127.0.0.1' });
      socket.on('error', () => undefined);
      // The method reply (05 00) comes first, then the request's reply (05 REPLY …).
      let received = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        const before = received.length;
        received = Buffer.concat([received, chunk]);
        if (before < 4 && received.length >= 4 && received[3] === REPLY.notAllowed) refusedAtOnce++;
      });
      held.push(socket);
      socket.write(Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), requestBytes({ domain: `unknown${i % 5}.test` }, 443)]));
    }
    await settle(() => broker.waiting('hostile') + refusedAtOnce === 300);
    const waiting = broker.waiting('hostile');
    expect(waiting).toBe(200);
    expect(refusedAtOnce).toBe(100);
    const other = await socksConnect(proxy, { domain: 'allowed.test' }, 443);
    expect(other.reply).toBe(REPLY.notAllowed);
    other.socket.destroy();
    figures.push(['connections held on prompts (cap 50 a destination, 200 a VM)', `${waiting} held, ${refusedAtOnce} of 300 refused at once`]);
    figures.push(['fds while held', `${fdsBefore} → ${openFds()}`]);
    broker.cancelVm('hostile');
    for (const socket of held) socket.destroy();
    await settle(() => fw.openConnections === 0);
    expect(openFds()).toBeLessThanOrEqual(fdsBefore + 2);
    figures.push(['fds after the prompts closed', String(openFds())]);
    await fw.stop();
  }, 60_000);

  it('keeps DNS lookups bounded however the guest pipelines or trickles', async () => {
    let open = 0;
    let most = 0;
    const resolver: DnsResolver = {
      resolve4: async () => {
        open++;
        most = Math.max(most, open);
        await new Promise((resolve) => setTimeout(resolve, 5));
        open--;
        return [{ address: '198.18.255.2', ttl: 30 }];
      },
      resolve6: async () => [],
    };
    const dns = new DnsServer({ vm: 'hostile', tcpPort: 0, resolver, nameCache: new NameCache(), messageDeadlineMs: 300, maxConnections: 50 });
    await dns.listen();
    const port = dns.tcpPort as number;
    const fdsBefore = openFds();
    const flood = connect({ port, host: '127.0.0.1' });
    const reader = new Reader(flood);
    const query = (id: number): Buffer => {
      const q = Buffer.concat([Buffer.from([id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4]), Buffer.from('name'), Buffer.from([4]), Buffer.from('test'), Buffer.from([0, 0, 1, 0, 1])]);
      return Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);
    };
    await new Promise<void>((resolve) => flood.once('connect', () => resolve()));
    flood.write(Buffer.concat(Array.from({ length: 1000 }, (_, i) => query(i))));
    let answered = 0;
    while (answered < 1000) {
      const length = (await reader.read(2)).readUInt16BE(0);
      await reader.read(length);
      answered++;
    }
    flood.destroy();
    const tricklers = Array.from({ length: 100 }, () => connect({ port, host: '127.0.0.1' }));
    for (const t of tricklers) t.on('error', () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const t of tricklers) if (!t.destroyed) t.write(Buffer.from([0]));
    await settle(() => dns.connectionCount === 0, 5000);
    expect(most).toBeLessThanOrEqual(32);
    expect(dns.connectionCount).toBe(0);
    figures.push(['DNS: 1,000 pipelined questions', `answered ${answered}, at most ${most} lookups at once`]);
    figures.push(['DNS: 100 trickling connections (cap 50)', `all closed within the 300 ms message deadline; fds ${fdsBefore} → ${openFds()}`]);
    for (const t of tricklers) t.destroy();
    await dns.close();
  }, 60_000);

  it('drops control-socket clients that never end a line, and answers the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xray-rel-'));
    const api: XrayApi = { call: async () => [] as never, subscribe: () => () => {} };
    const server = new ControlServer(api, join(dir, 'xray.sock'));
    await server.listen();
    const rssBefore = rssMiB();
    const chunk = 'x'.repeat(64 * 1024);
    let dropped = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        new Promise<void>((resolve) => {
          const socket = connect(join(dir, 'xray.sock'));
          socket.on('error', () => undefined);
          socket.on('close', () => {
            dropped++;
            resolve();
          });
          socket.on('connect', () => {
            for (let i = 0; i < 32 && !socket.destroyed; i++) socket.write(chunk);
          });
        }),
      ),
    );
    const client = await ControlClient.connect(join(dir, 'xray.sock'));
    expect(await client.call('vm.list', {})).toEqual([]);
    client.close();
    expect(dropped).toBe(20);
    figures.push(['control socket: 20 clients × 2 MiB without a newline', `${dropped} dropped at the 1 MiB cap; RSS ${rssBefore} → ${rssMiB()}`]);
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('keeps every rule of 50 written at once by separate writers', async () => {
    const home = await makeTestHome('xray-rel-rules-');
    await addFirmwareOnlyVm(home.paths, 'box');
    const written = Array.from({ length: 50 }, (_, i) => new RuleSet().add({ target: parseRuleTarget(`host${i}.test`), action: i % 3 ? 'allow' : 'deny', lifetime: { kind: 'forever' } }));
    const acknowledged = (await Promise.allSettled(written.map((rule) => new RuleStore(home.paths, new VmStore(home.paths)).put('box', rule)))).filter((r) => r.status === 'fulfilled').length;
    const kept = (await new RuleStore(home.paths, new VmStore(home.paths)).read('box')).rules.length;
    expect(acknowledged).toBe(50);
    expect(kept).toBe(50);
    figures.push(['rules written vs acknowledged vs kept', `50 / ${acknowledged} / ${kept}`]);
    await home.cleanup();
  }, 60_000);
});

// What answers a guest's DNS questions: the host's own resolver by default
// (hosts file included), or the servers a setting names.
import { describe, expect, it } from 'vitest';
import { type DnsResolver, guestResolver, hostResolver, parseDnsServer } from '../../../src-main/core/firewall/dns';
import { DnsServer, type DnsServerOptions } from '../../../src-main/core/firewall/dns-server';
import { NameCache } from '../../../src-main/core/firewall/name-cache';
import { Reader, connectTo } from './helpers';
import { waitFor } from '../../helpers/wait';

describe('parseDnsServer', () => {
  it.each([
    ['198.18.0.53', '198.18.0.53'],
    [' 198.18.0.53:5353 ', '198.18.0.53:5353'],
    ['2001:DB8::53', '[2001:db8::53]'],
    ['[2001:db8::53]:53', '[2001:db8::53]:53'],
    ['dns.example.com', null],
    ['1.2.3.4:0', null],
    ['1.2.3.4:65536', null],
    ['[1.2.3.4', null],
  ])('%j → %j', (text, expected) => {
    expect(parseDnsServer(text)).toBe(expected);
  });
});

describe('hostResolver', () => {
  it('answers from the host hosts file, as the host itself would', async () => {
    expect(await hostResolver().resolve4('localhost')).toEqual([{ address: '127.0.0.1', ttl: 60 }]);
  });

  it('says "no data" for a family a name lacks, not "no such name"', async () => {
    await expect(hostResolver().resolve6('localhost')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('says "no such name" for a name nothing resolves', async () => {
    await expect(hostResolver().resolve4('no-such-host.invalid')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('guestResolver', () => {
  it('refuses an XRAY_DNS_SERVERS entry that is not an address, in one sentence naming it', () => {
    expect(() => guestResolver([], { XRAY_DNS_SERVERS: '198.18.0.53,resolver.lan' })).toThrow(
      '"resolver.lan" in XRAY_DNS_SERVERS is not a DNS server address; give IP or IP:PORT.',
    );
  });

  it('prefers XRAY_DNS_SERVERS to the setting', () => {
    expect(() => guestResolver(['198.18.0.53'], { XRAY_DNS_SERVERS: 'bad' })).toThrow(/XRAY_DNS_SERVERS/);
    expect(() => guestResolver(['198.18.0.53'], {})).not.toThrow();
  });
});

/** query builds a DNS A question for `name` with `id`, framed for TCP. */
function framedQuery(id: number, name: string): Buffer {
  const labels = name.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)]));
  const message = Buffer.concat([Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
  return Buffer.concat([Buffer.from([message.length >> 8, message.length & 0xff]), message]);
}

describe('DnsServer limits', () => {
  /** gatedResolver holds every lookup until release(), counting how many are open at once. */
  function gatedResolver() {
    const gate = { open: 0, most: 0, calls: 0, waiting: [] as (() => void)[] };
    const resolver: DnsResolver = {
      resolve4: async () => {
        gate.calls++;
        gate.open++;
        gate.most = Math.max(gate.most, gate.open);
        await new Promise<void>((resolve) => gate.waiting.push(resolve));
        gate.open--;
        return [{ address: '198.18.0.10', ttl: 60 }];
      },
      resolve6: async () => [],
    };
    const releaseAll = (): void => {
      for (const resolve of gate.waiting.splice(0)) resolve();
    };
    return { gate, resolver, releaseAll };
  }

  async function serve(options: Partial<DnsServerOptions> = {}): Promise<DnsServer> {
    const server = new DnsServer({ vm: 'web', tcpPort: 0, nameCache: new NameCache(), resolver: hostResolver(), ...options });
    await server.listen();
    return server;
  }

  it('answers 1,000 pipelined questions with at most 32 lookups at a time', async () => {
    const { gate, resolver, releaseAll } = gatedResolver();
    const server = await serve({ resolver });
    const socket = await connectTo({ port: server.tcpPort as number });
    const reader = new Reader(socket);
    socket.write(Buffer.concat(Array.from({ length: 1000 }, (_, i) => framedQuery(i, `n${i}.example.test`))));
    await waitFor('32 lookups in flight', () => gate.open === 32);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(gate.calls).toBe(32);
    const answered = (async () => {
      let frames = 0;
      while (frames < 1000) {
        const length = (await reader.read(2)).readUInt16BE(0);
        await reader.read(length);
        frames++;
      }
      return frames;
    })();
    while (gate.calls < 1000 || gate.open > 0) {
      releaseAll();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(await answered).toBe(1000);
    expect(gate.most).toBe(32);
    socket.destroy();
    await server.close();
  });

  it('closes a connection whose message trickles in past the deadline', async () => {
    const server = await serve({ messageDeadlineMs: 300 });
    const socket = await connectTo({ port: server.tcpPort as number });
    const reader = new Reader(socket);
    const query = framedQuery(1, 'slow.example.test');
    const started = Date.now();
    for (let i = 0; i < query.length - 1 && !reader.closed; i++) {
      socket.write(query.subarray(i, i + 1));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await reader.untilEnded();
    expect(reader.closed || reader.ended).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(server.connectionCount).toBe(0);
    await server.close();
  });

  it('refuses connections beyond its cap at once', async () => {
    const server = await serve({ maxConnections: 3 });
    const open = await Promise.all([1, 2, 3].map(() => connectTo({ port: server.tcpPort as number })));
    await waitFor('three connections', () => server.connectionCount === 3);
    const extra = new Reader(await connectTo({ port: server.tcpPort as number }));
    await extra.untilEnded();
    expect(server.connectionCount).toBe(3);
    for (const socket of open) socket.destroy();
    await server.close();
  });
});

// What the proxy says is open now (Socks5Server.connections, the view behind
// `firewall.connections`): real SOCKS clients over loopback, held while
// deciding, relaying with bytes read from the sockets' counters, carried by an
// interceptor (no upstream socket: the client's bytes count), and gone once closed.
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectDecision, Socks5Server, type Socks5ServerOptions } from '../../../src-main/core/firewall/socks5';
import { closeServer, connectTo, echoServer, requestBytes, socksConnect } from './helpers';
import { waitFor } from '../../helpers/wait';

describe('Socks5Server.connections', () => {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let proxy: Socks5Server | null = null;
  const clients: Socket[] = [];

  beforeAll(async () => {
    echo = await echoServer();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await proxy?.close();
    proxy = null;
  });

  afterAll(async () => {
    await closeServer(echo.server);
  });

  async function start(options: Partial<Socks5ServerOptions>): Promise<{ port: number }> {
    proxy = new Socks5Server({ vm: 'web', tcpPort: 0, decide: async () => ({ action: 'deny', reason: 'test' }), ...options });
    await proxy.listen();
    return { port: proxy.tcpPort as number };
  }

  const toEcho = (extra: Partial<ConnectDecision> = {}): ConnectDecision => ({
    action: 'allow',
    reason: 'rule echo.test',
    rule: 'echo.test',
    connectTo: { host: '127.0.0.1', port: echo.port },
    ...extra,
  });

  it('shows a connection held for a decision where it asked to go, with nothing carried and no reason yet', async () => {
    let release: (d: ConnectDecision) => void = () => undefined;
    const where = await start({ decide: () => new Promise((resolve) => (release = resolve)) });
    const client = await connectTo(where);
    clients.push(client);
    client.write(Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), requestBytes({ domain: 'echo.test' }, 7)]));
    await waitFor('the held connection', () => proxy!.connections().length === 1);
    const [held] = proxy!.connections();
    expect(held).toMatchObject({ state: 'deciding', destination: { ip: null, name: 'echo.test', nameSource: 'socks', port: 7 }, bytesUp: 0, bytesDown: 0, reason: null, rule: null });
    expect(Date.now() - Date.parse(held!.openedAt)).toBeLessThan(5000);
    release(toEcho());
    await waitFor('relaying', () => proxy!.connections()[0]?.state === 'relaying');
    expect(proxy!.connections()[0]).toMatchObject({ reason: 'rule echo.test', rule: 'echo.test' });
  });

  it('counts the bytes relayed each way as they go, and drops a connection once it closes', async () => {
    const where = await start({ decide: async () => toEcho() });
    const first = await socksConnect(where, { domain: 'echo.test' }, 7);
    const second = await socksConnect(where, { domain: 'echo.test' }, 7);
    clients.push(first.socket, second.socket);
    first.socket.write('ping');
    await first.reader.read(9);
    expect(proxy!.connections().map((c) => [c.state, c.bytesUp, c.bytesDown])).toEqual([
      ['relaying', 4, 9],
      ['relaying', 0, 0],
    ]);
    first.socket.write('x'.repeat(1000));
    await first.reader.read(1005);
    expect(proxy!.connections()[0]).toMatchObject({ bytesUp: 1004, bytesDown: 1014 });
    const [firstId, secondId] = proxy!.connections().map((c) => c.id);
    expect(firstId).not.toBe(secondId);
    first.socket.destroy();
    await waitFor('the closed connection to go', () => proxy!.connections().length === 1);
    expect(proxy!.connections()[0]?.id).toBe(secondId);
  });

  it('counts an intercepted connection by its client, since the interceptor holds the upstream', async () => {
    const where = await start({
      sniffTimeoutMs: 20,
      decide: async () => toEcho({ intercept: { unmatched: 'allow' } }),
      intercept: (client) =>
        new Promise((resolve) => {
          client.on('data', () => client.write('answer'));
          client.once('end', () => client.end());
          client.resume();
          client.once('close', () => resolve({ protocol: 'http/1.1', requests: 1, refused: 0, failure: null }));
        }),
    });
    const { socket, reader } = await socksConnect(where, { domain: 'echo.test' }, 443);
    clients.push(socket);
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05]));
    await waitFor('interception', () => proxy!.connections()[0]?.state === 'intercepted');
    socket.write('more');
    await reader.read(6);
    // What the guest's side sent and got, SOCKS handshake included, as the connection log counts it.
    expect(proxy!.connections()[0]).toMatchObject({ state: 'intercepted', bytesUp: socket.bytesWritten, bytesDown: socket.bytesRead, rule: 'echo.test' });
    expect(socket.bytesWritten).toBe(3 + 16 + 5 + 4);
    socket.destroy();
    await waitFor('the closed connection to go', () => proxy!.connections().length === 0);
  });

  it('lists each of many open connections once, in the order they came', async () => {
    const where = await start({ decide: async () => toEcho() });
    const opened = await Promise.all(Array.from({ length: 100 }, () => socksConnect(where, { domain: 'echo.test' }, 7)));
    clients.push(...opened.map((o) => o.socket));
    const ids = proxy!.connections().map((c) => c.id);
    expect(ids).toHaveLength(100);
    expect(new Set(ids).size).toBe(100);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });
});

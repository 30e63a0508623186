import { Socket as NetSocket, createServer as createNetServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectDecision, REPLY, Socks5Server, type Socks5ServerOptions } from '../../../src-main/core/firewall/socks5';
import type { FirewallLogEntry } from '../../../src-main/shared/models';
import { closeServer, connectTo, echoServer, listen, requestBytes, socksConnect } from './helpers';
import { waitFor } from '../../helpers/wait';

/** How each way a connection ends reaches the client, the upstream and the connection log. */
describe('Socks5Server relay endings', () => {
  const servers: { close(cb: () => void): unknown }[] = [];
  let echoPort: number;
  let closedPort: number;
  let proxy: Socks5Server | null = null;
  let entries: FirewallLogEntry[] = [];
  const allow = async (): Promise<ConnectDecision> => ({ action: 'allow', reason: 'test' });

  beforeAll(async () => {
    const echo = await echoServer();
    echoPort = echo.port;
    servers.push(echo.server);
    const refusing = createNetServer();
    closedPort = await listen(refusing);
    await closeServer(refusing);
  });

  afterEach(async () => {
    await proxy?.close();
    proxy = null;
  });

  afterAll(async () => {
    for (const server of servers) await closeServer(server);
  });

  /** start opens a proxy for one test, with a log of its own (a closing proxy may log after the test). */
  async function start(options: Partial<Socks5ServerOptions>): Promise<{ port: number }> {
    const log: FirewallLogEntry[] = [];
    entries = log;
    proxy = new Socks5Server({ vm: 'web', tcpPort: 0, decide: allow, onConnectionClosed: (entry) => log.push(entry), ...options });
    await proxy.listen();
    return { port: proxy.tcpPort as number };
  }

  /** settled waits a little past the point where a second log entry would have arrived. */
  const settled = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100));

  it('closes both sides of an idle connection and logs it once, saying why', async () => {
    const where = await start({ idleTimeoutMs: 100, decide: async () => ({ action: 'allow', reason: 'test', connectTo: { host: '127.0.0.1', port: echoPort } }) });
    const { reply, reader } = await socksConnect(where, { domain: 'idle.test' }, echoPort);
    expect(reply).toBe(REPLY.succeeded);
    await reader.untilEnded();
    await waitFor('the log entry', () => entries.length > 0);
    await settled();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: 'connection', action: 'allow', reason: 'idle timeout' });
  });

  it('logs a connection that ended normally once, without a reason', async () => {
    const where = await start({ decideByAddress: allow });
    const { socket, reader } = await socksConnect(where, { ip: '127.0.0.1' }, echoPort);
    socket.end('ping');
    expect((await reader.untilEnded()).toString()).toBe('echo:pingbye');
    await waitFor('the log entry', () => entries.length > 0);
    await settled();
    expect(entries).toHaveLength(1);
    expect(entries[0]?.reason).toBeUndefined();
  });

  it('closes the client when the upstream resets, and logs the reset', async () => {
    const resetting = createNetServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const port = await listen(resetting);
    const where = await start({ decideByAddress: allow });
    const { socket, reader } = await socksConnect(where, { ip: '127.0.0.1' }, port);
    socket.write('hello');
    await reader.untilEnded();
    await waitFor('the log entry', () => entries.length > 0);
    expect(entries[0]?.reason).toBe('upstream: ECONNRESET');
    await closeServer(resetting);
  });

  it('answers a failed domain connect with its reply code and logs the failure once', async () => {
    const where = await start({ decide: async () => ({ action: 'allow', reason: 'test', connectTo: { host: '127.0.0.1', port: closedPort } }) });
    expect((await socksConnect(where, { domain: 'closed.test' }, closedPort)).reply).toBe(REPLY.connectionRefused);
    await waitFor('the log entry', () => entries.length > 0);
    await settled();
    expect(entries).toHaveLength(1);
    expect(entries[0]?.reason).toBe('connect failed: ECONNREFUSED');
  });

  it('answers an address allowed on its own before the upstream has connected', async () => {
    const where = await start({ decideByAddress: allow, connectUpstream: () => new NetSocket() });
    expect((await socksConnect(where, { ip: '127.0.0.1' }, echoPort)).reply).toBe(REPLY.succeeded);
  });

  it('drops the upstream being connected when the client resets, and logs that', async () => {
    let upstream: NetSocket | null = null;
    const where = await start({
      decideByAddress: allow,
      connectUpstream: () => {
        upstream = new NetSocket();
        return upstream;
      },
    });
    const { socket } = await socksConnect(where, { ip: '127.0.0.1' }, echoPort);
    socket.resetAndDestroy();
    await waitFor('the log entry', () => entries.length > 0);
    expect(upstream).toMatchObject({ destroyed: true });
    expect(entries[0]?.reason).toBe('client: ECONNRESET');
  });

  it('logs no connection for a request the decider refused', async () => {
    const deny = async (): Promise<ConnectDecision> => ({ action: 'deny', reason: 'rule' });
    const where = await start({ decideByAddress: deny, decide: deny });
    expect((await socksConnect(where, { ip: '127.0.0.1' }, echoPort)).reply).toBe(REPLY.notAllowed);
    expect((await socksConnect(where, { domain: 'denied.test' }, echoPort)).reply).toBe(REPLY.notAllowed);
    await settled();
    expect(entries).toHaveLength(0);
  });

  it('never dials a held connection that was closed while it was being decided', async () => {
    let dialed = 0;
    let requests = 0;
    let release: (decision: ConnectDecision) => void = () => undefined;
    const where = await start({
      decide: () => {
        requests += 1;
        return new Promise<ConnectDecision>((resolve) => (release = resolve));
      },
      connectUpstream: () => {
        dialed += 1;
        return new NetSocket();
      },
    });
    const socket = await connectTo(where);
    socket.on('error', () => undefined);
    socket.write(Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), requestBytes({ domain: 'held.test' }, echoPort)]));
    await waitFor('the request', () => requests === 1);
    expect(await proxy?.close()).toBe(1);
    release({ action: 'allow', reason: 'late answer' });
    await settled();
    expect(dialed).toBe(0);
    expect(entries).toHaveLength(0);
  });
});

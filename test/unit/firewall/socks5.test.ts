import { createHash } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { readFile, stat } from 'node:fs/promises';
import { Socket as NetSocket, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectDecision, type ConnectRequest, REPLY, Socks5Server } from '../../../src-main/core/firewall/socks5';
import type { FirewallLogEntry } from '../../../src-main/shared/models';
import { Reader, closeServer, connectTo, echoServer, listen, run, socksConnect, tempDir } from './helpers';
import { waitFor } from '../../helpers/wait';

describe('Socks5Server', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let socks: Socks5Server;
  let socketPath: string;
  let proxyPort: number;
  const requests: ConnectRequest[] = [];
  const closedEntries: FirewallLogEntry[] = [];
  let decide: (request: ConnectRequest) => Promise<ConnectDecision>;
  const servers: { close(cb: () => void): unknown }[] = [];
  let httpPort: number;
  let tlsPort: number;
  let echoPort: number;
  let closedPort: number;
  let certPem: Buffer;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    socketPath = join(dir, 'proxy.sock');
    decide = async () => ({ action: 'allow', reason: 'test' });
    socks = new Socks5Server({
      vm: 'web',
      socketPath,
      tcpPort: 0,
      sniffTimeoutMs: 300,
      decide: (request) => {
        requests.push(request);
        return decide(request);
      },
      onConnectionClosed: (entry) => closedEntries.push(entry),
    });
    await socks.listen();
    proxyPort = socks.tcpPort as number;

    const http = createHttpServer((req, res) => res.end(`hello ${req.headers.host}`));
    httpPort = await listen(http as never);
    servers.push(http);

    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=secure.test',
      '-addext', 'subjectAltName=DNS:secure.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    certPem = await readFile(join(dir, 'cert.pem'));
    const tls = createTlsServer({ key: await readFile(join(dir, 'key.pem')), cert: certPem }, (socket) => {
      socket.on('error', () => undefined);
      socket.end(`tls hello ${(socket as unknown as { servername: string }).servername}`);
    });
    tlsPort = await listen(tls as never);
    servers.push(tls);

    const echo = await echoServer();
    echoPort = echo.port;
    servers.push(echo.server);

    const refusing = createHttpServer();
    closedPort = await listen(refusing as never);
    await closeServer(refusing);
  });

  afterAll(async () => {
    await socks.close();
    for (const server of servers) await closeServer(server);
    await cleanup();
  });

  it('creates proxy.sock readable by the owner only', async () => {
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600);
  });

  it('serves curl over the Unix socket with a domain target, deciding on the name first', async () => {
    requests.length = 0;
    decide = async () => ({ action: 'allow', reason: 'test', connectTo: { host: '127.0.0.1', port: httpPort } });
    const { stdout } = await run('curl', ['-sS', '--max-time', '10', '--proxy', `socks5h://localhost${socketPath}`, `http://site.test:${httpPort}/`]);
    expect(stdout).toBe(`hello site.test:${httpPort}`);
    expect(requests[0]?.destination).toMatchObject({ name: 'site.test', nameSource: 'socks', ip: null, port: httpPort });
    expect(requests[0]?.firstBytes).toBeUndefined();
  });

  it('learns the HTTP Host of an IP target from the first bytes and logs the bytes moved', async () => {
    requests.length = 0;
    closedEntries.length = 0;
    decide = async () => ({ action: 'allow', reason: 'test' });
    const { stdout } = await run('curl', ['-sS', '--max-time', '10', '--socks5', `127.0.0.1:${proxyPort}`, '-H', 'Host: named.test', `http://127.0.0.1:${httpPort}/`]);
    expect(stdout).toBe('hello named.test');
    expect(requests[0]?.destination).toMatchObject({ ip: '127.0.0.1', name: 'named.test', nameSource: 'http-host', service: null });
    await waitFor('the log entry of the named connection', () => closedEntries.some((e) => e.destination.name === 'named.test'));
    const entry = closedEntries.find((e) => e.destination.name === 'named.test');
    expect(entry).toMatchObject({ kind: 'connection', vm: 'web', action: 'allow' });
    expect(entry?.bytesUp).toBeGreaterThan(40);
    expect(entry?.bytesDown).toBeGreaterThan(100);
  });

  it('reads the TLS SNI of an IP target and relays the TLS session end to end', async () => {
    requests.length = 0;
    decide = async () => ({ action: 'allow', reason: 'test' });
    const { stdout } = await run('curl', ['-sS', '--http0.9', '--max-time', '10', '--cacert', join(dir, 'cert.pem'), '--socks5', `127.0.0.1:${proxyPort}`,
      '--resolve', `secure.test:${tlsPort}:127.0.0.1`, `https://secure.test:${tlsPort}/`]);
    expect(stdout).toBe('tls hello secure.test');
    expect(requests[0]?.destination).toMatchObject({ ip: '127.0.0.1', port: tlsPort, name: 'secure.test', nameSource: 'sni' });
  });

  it('connects without a name when a server-first protocol sends nothing within the sniff time', async () => {
    requests.length = 0;
    const greeterServer = createNetServer((socket) => socket.end('SSH-2.0-test\r\n'));
    const greeter = { port: await listen(greeterServer), close: () => closeServer(greeterServer) };
    const { reply, reader, socket } = await socksConnect({ port: proxyPort }, { ip: '127.0.0.1' }, greeter.port);
    expect(reply).toBe(REPLY.succeeded);
    expect((await reader.untilEnded()).toString()).toBe('SSH-2.0-test\r\n');
    expect(requests[0]?.destination.name).toBeNull();
    socket.destroy();
    await greeter.close();
  });

  it('forwards every byte when the first bytes overflow the sniff buffer', async () => {
    const small = new Socks5Server({ vm: 'web', tcpPort: 0, sniffBytes: 64, decide: async () => ({ action: 'allow', reason: 't' }) });
    await small.listen();
    const { reply, socket, reader } = await socksConnect({ port: small.tcpPort as number }, { ip: '127.0.0.1' }, echoPort);
    expect(reply).toBe(REPLY.succeeded);
    const payload = 'x'.repeat(5000);
    socket.end(payload);
    const text = (await reader.untilEnded()).toString();
    expect(text.replace(/echo:/g, '')).toBe(`${payload}bye`);
    socket.destroy();
    await small.close();
  });

  it('relays half-close both ways: the client can end its side and still read the reply', async () => {
    decide = async () => ({ action: 'allow', reason: 'test' });
    const { reply, socket, reader } = await socksConnect({ path: socketPath }, { domain: 'echo.test' }, echoPort);
    expect(reply).toBe(REPLY.hostUnreachable);
    socket.destroy();
    decide = async () => ({ action: 'allow', reason: 'test', connectTo: { host: '127.0.0.1', port: echoPort } });
    const second = await socksConnect({ path: socketPath }, { domain: 'echo.test' }, echoPort);
    expect(second.reply).toBe(REPLY.succeeded);
    second.socket.end('ping');
    expect((await second.reader.untilEnded()).toString()).toBe('echo:pingbye');
    void reader;
  });

  it('streams a large body with backpressure intact', async () => {
    decide = async () => ({ action: 'allow', reason: 'test' });
    const size = 32 * 1024 * 1024;
    const big = createHttpServer((_req, res) => {
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const pump = (): void => {
        while (sent < size) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const port = await listen(big as never);
    const { stdout } = await run('curl', ['-sS', '--max-time', '30', '-o', '/dev/null', '-w', '%{size_download}', '--socks5', `127.0.0.1:${proxyPort}`, `http://127.0.0.1:${port}/`]);
    expect(Number(stdout)).toBe(size);
    await closeServer(big);
  });

  describe('reply codes', () => {
    it('0x02 when the ruleset denies a domain target', async () => {
      decide = async () => ({ action: 'deny', reason: 'rule' });
      const { reply } = await socksConnect({ port: proxyPort }, { domain: 'blocked.test' }, 443);
      expect(reply).toBe(REPLY.notAllowed);
      await expect(run('curl', ['-sS', '--max-time', '10', '--proxy', `socks5h://localhost${socketPath}`, 'http://blocked.test/'])).rejects.toThrow(/Can't complete SOCKS5 connection to blocked\.test\. \(2\)/);
    });

    it('a reset, not a reply, when an IP target is denied after sniffing', async () => {
      decide = async () => ({ action: 'deny', reason: 'rule' });
      const { reply, socket, reader } = await socksConnect({ port: proxyPort }, { ip: '127.0.0.1' }, httpPort);
      expect(reply).toBe(REPLY.succeeded);
      socket.write('GET / HTTP/1.1\r\nHost: x.test\r\n\r\n');
      expect((await reader.untilEnded()).length).toBe(0);
    });

    it('0x05 when the destination refuses', async () => {
      decide = async () => ({ action: 'allow', reason: 'test', connectTo: { host: '127.0.0.1', port: closedPort } });
      expect((await socksConnect({ port: proxyPort }, { domain: 'closed.test' }, closedPort)).reply).toBe(REPLY.connectionRefused);
    });

    it('0x04 when the name does not resolve', async () => {
      decide = async () => ({ action: 'allow', reason: 'test', connectTo: { host: 'no-such-host.invalid', port: 80 } });
      expect((await socksConnect({ port: proxyPort }, { domain: 'no-such-host.invalid' }, 80)).reply).toBe(REPLY.hostUnreachable);
    });

    it('0x06 when connecting times out', async () => {
      const slow = new Socks5Server({
        vm: 'web',
        tcpPort: 0,
        connectTimeoutMs: 100,
        decide: async () => ({ action: 'allow', reason: 'test' }),
        connectUpstream: () => new NetSocket(),
      });
      await slow.listen();
      expect((await socksConnect({ port: slow.tcpPort as number }, { domain: 'slow.test' }, 80)).reply).toBe(REPLY.ttlExpired);
      await slow.close();
    });

    it('0x07 for BIND and UDP ASSOCIATE', async () => {
      expect((await socksConnect({ port: proxyPort }, { ip: '127.0.0.1' }, 80, 0x02)).reply).toBe(REPLY.commandNotSupported);
      expect((await socksConnect({ port: proxyPort }, { ip: '127.0.0.1' }, 80, 0x03)).reply).toBe(REPLY.commandNotSupported);
    });

    it('0x08 for an unknown address type', async () => {
      const socket = await connectTo({ port: proxyPort });
      const reader = new Reader(socket);
      socket.write(Buffer.from([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x09, 1, 2, 3, 4, 0, 80]));
      expect([...(await reader.read(4))]).toEqual([0x05, 0x00, 0x05, REPLY.addressTypeNotSupported]);
    });

    it('0xFF when the client offers no acceptable method', async () => {
      const socket = await connectTo({ port: proxyPort });
      const reader = new Reader(socket);
      socket.write(Buffer.from([0x05, 0x02, 0x01, 0x02]));
      expect([...(await reader.read(2))]).toEqual([0x05, 0xff]);
      await reader.untilEnded();
    });

    it('IPv6 targets are read and decided', async () => {
      requests.length = 0;
      decide = async () => ({ action: 'deny', reason: 'rule' });
      await socksConnect({ port: proxyPort }, { ip: '2001:db8:0:0:0:0:0:1' }, 443);
      await waitFor('the request', () => requests.length === 1);
      expect(requests[0]?.destination).toMatchObject({ ip: '2001:db8::1', port: 443, service: 'https' });
    });
  });

  describe('deciding an address before the client speaks', () => {
    let server: Socks5Server;
    let proxy: { port: number };
    let byAddress: (request: ConnectRequest) => ConnectDecision | null | Promise<ConnectDecision | null>;
    const sniffed: ConnectRequest[] = [];

    beforeAll(async () => {
      server = new Socks5Server({
        vm: 'web',
        tcpPort: 0,
        sniffTimeoutMs: 300,
        decideByAddress: (request) => byAddress(request),
        decide: async (request) => {
          sniffed.push(request);
          return { action: 'allow', reason: 'after sniffing' };
        },
      });
      await server.listen();
      proxy = { port: server.tcpPort as number };
    });

    afterAll(() => server.close());

    it('connects before the first byte when the address is settled, and never sniffs', async () => {
      sniffed.length = 0;
      byAddress = async () => ({ action: 'allow', reason: 'rule' });
      const greeterServer = createNetServer((socket) => socket.end('220 ready\r\n'));
      const greeterPort = await listen(greeterServer);
      // Port 2525 is not a known server-first protocol: on the sniffing path this waits 300 ms for nothing.
      const { reply, reader, socket } = await socksConnect(proxy, { ip: '127.0.0.1' }, greeterPort);
      expect(reply).toBe(REPLY.succeeded);
      expect((await reader.untilEnded()).toString()).toBe('220 ready\r\n');
      expect(sniffed).toHaveLength(0);
      socket.destroy();
      await closeServer(greeterServer);
    });

    it('refuses with 0x02 and never touches the destination when the address is denied', async () => {
      let reached = 0;
      const target = createNetServer((socket) => {
        reached += 1;
        socket.destroy();
      });
      const port = await listen(target);
      byAddress = async () => ({ action: 'deny', reason: 'rule' });
      expect((await socksConnect(proxy, { ip: '127.0.0.1' }, port)).reply).toBe(REPLY.notAllowed);
      expect(reached).toBe(0);
      await closeServer(target);
    });

    it('acts on a decision given at once (no promise) as on one that comes later, and refuses with 0x02 when deciding throws', async () => {
      byAddress = () => ({ action: 'allow', reason: 'rule' });
      const allowed = await socksConnect(proxy, { ip: '127.0.0.1' }, echoPort);
      expect(allowed.reply).toBe(REPLY.succeeded);
      allowed.socket.end('now');
      expect((await allowed.reader.untilEnded()).toString()).toBe('echo:nowbye');
      byAddress = () => {
        throw new Error('rules unreadable');
      };
      expect((await socksConnect(proxy, { ip: '127.0.0.1' }, echoPort)).reply).toBe(REPLY.notAllowed);
    });

    it('answers at once when the address is allowed, and resets the client if the destination refuses', async () => {
      byAddress = async () => ({ action: 'allow', reason: 'rule' });
      const { reply, reader, socket } = await socksConnect(proxy, { ip: '127.0.0.1' }, closedPort);
      expect(reply).toBe(REPLY.succeeded);
      const closed = new Promise<NodeJS.ErrnoException | undefined>((resolve) => socket.once('error', resolve).once('close', () => resolve(undefined)));
      expect((await closed)?.code).toBe('ECONNRESET');
      expect((await reader.untilEnded()).length).toBe(0);
    });

    it('falls back to sniffing for a name when the address alone does not settle it', async () => {
      sniffed.length = 0;
      byAddress = async () => null;
      const { stdout } = await run('curl', ['-sS', '--max-time', '10', '--socks5', `127.0.0.1:${proxy.port}`, '-H', 'Host: later.test', `http://127.0.0.1:${httpPort}/`]);
      expect(stdout).toBe('hello later.test');
      expect(sniffed[0]?.destination).toMatchObject({ name: 'later.test', nameSource: 'http-host' });
    });

    it('logs the connection under the destination the decider identified', async () => {
      const entries: FirewallLogEntry[] = [];
      const named = new Socks5Server({
        vm: 'web',
        tcpPort: 0,
        decideByAddress: async (request) => ({ action: 'allow', reason: 'rule', destination: { ...request.destination, name: 'from-dns.test', nameSource: 'dns' } }),
        decide: async () => ({ action: 'deny', reason: 'unused' }),
        onConnectionClosed: (entry) => entries.push(entry),
      });
      await named.listen();
      const { reply, socket, reader } = await socksConnect({ port: named.tcpPort as number }, { ip: '127.0.0.1' }, echoPort);
      expect(reply).toBe(REPLY.succeeded);
      socket.end('hi');
      expect((await reader.untilEnded()).toString()).toBe('echo:hibye');
      await waitFor('the log entry', () => entries.length === 1);
      expect(entries[0]).toMatchObject({ destination: { ip: '127.0.0.1', name: 'from-dns.test', nameSource: 'dns' }, bytesUp: 2, bytesDown: 10 });
      await named.close();
    });
  });

  it('holds a slow reader back at the source and delivers every byte intact', async () => {
    const size = 64 * 1024 * 1024;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);
    let accepted = 0;
    const source = createNetServer((socket) => {
      socket.on('error', () => undefined);
      const step = 1024 * 1024;
      let offset = 0;
      const pump = (): void => {
        while (offset < size) {
          const more = socket.write(body.subarray(offset, offset + step), () => undefined);
          offset += step;
          accepted = offset - socket.writableLength;
          if (!more) return void socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    });
    const port = await listen(source);
    decide = async () => ({ action: 'allow', reason: 'test' });
    const { reply, socket, reader } = await socksConnect({ port: proxyPort }, { ip: '127.0.0.1' }, port);
    expect(reply).toBe(REPLY.succeeded);
    socket.pause();
    const early = reader.detach();
    // The source is a server-speaks-first stream: the proxy connects once the sniff time passes.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Kernel buffers on both legs plus one proxy read: a few MiB, nowhere near the whole body.
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(24 * 1024 * 1024);
    const hash = createHash('sha256').update(early);
    let received = early.length;
    await new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        received += chunk.length;
      });
      socket.on('end', () => resolve());
      socket.resume();
    });
    expect(received).toBe(size);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    socket.destroy();
    await closeServer(source);
  });

  it('holds a fast uploader back while the destination does not read, and delivers every byte intact', async () => {
    const size = 64 * 1024 * 1024;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) body.writeUInt32LE((i * 2246822519) >>> 0, i);
    const hash = createHash('sha256');
    let received = 0;
    let destination: NetSocket | null = null;
    let allArrived: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (allArrived = resolve));
    const sink = createNetServer((socket) => {
      destination = socket;
      socket.pause();
      socket.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        received += chunk.length;
        if (received === size) allArrived();
      });
    });
    const port = await listen(sink);
    decide = async () => ({ action: 'allow', reason: 'test', connectTo: { host: '127.0.0.1', port } });
    const { reply, socket } = await socksConnect({ port: proxyPort }, { domain: 'sink.test' }, port);
    expect(reply).toBe(REPLY.succeeded);
    const step = 1024 * 1024;
    let offset = 0;
    const pump = (): void => {
      while (offset < size) {
        const more = socket.write(body.subarray(offset, offset + step));
        offset += step;
        if (!more) return void socket.once('drain', pump);
      }
    };
    pump();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Kernel buffers on both legs plus the proxy's upload queue: some MiB, nowhere near the whole body.
    const accepted = offset - socket.writableLength;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(24 * 1024 * 1024);
    (destination as NetSocket | null)?.resume();
    await arrived;
    expect(hash.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    socket.destroy();
    await closeServer(sink);
  });

  it('survives a few thousand random and malformed handshakes and leaks no connections', async () => {
    decide = async () => ({ action: 'deny', reason: 'fuzz' });
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const valid = Buffer.from([0x05, 0x01, 0x00, 0x05, 0x01, 0x00, 0x03, 0x04, 0x61, 0x2e, 0x62, 0x63, 0x01, 0xbb]);
    const total = 2000;
    const batch = 100;
    for (let start = 0; start < total; start += batch) {
      await Promise.all(
        Array.from({ length: batch }, async () => {
          let payload: Buffer;
          const kind = random(4);
          if (kind === 0) payload = Buffer.from(Array.from({ length: random(600) }, () => random(256)));
          else if (kind === 1) payload = valid.subarray(0, random(valid.length));
          else if (kind === 2) {
            payload = Buffer.from(valid);
            for (let i = 0; i < 3; i++) payload[random(payload.length)] = random(256);
          } else payload = Buffer.concat([valid.subarray(0, 3), Buffer.alloc(random(2000), random(256))]);
          const socket = await connectTo({ port: proxyPort });
          socket.on('error', () => undefined);
          socket.write(payload);
          await new Promise((resolve) => setTimeout(resolve, random(5)));
          socket.destroy();
        }),
      );
    }
    await waitFor('every connection to close', () => socks.connectionCount === 0, 10_000);
    decide = async () => ({ action: 'allow', reason: 'test' });
    const { stdout } = await run('curl', ['-sS', '--max-time', '10', '--socks5', `127.0.0.1:${proxyPort}`, `http://127.0.0.1:${httpPort}/`]);
    expect(stdout).toBe(`hello 127.0.0.1:${httpPort}`);
  });

  it('closes a handshake that stalls', async () => {
    const stalling = new Socks5Server({ vm: 'web', tcpPort: 0, handshakeTimeoutMs: 100, decide: async () => ({ action: 'allow', reason: 't' }) });
    await stalling.listen();
    const socket = await connectTo({ port: stalling.tcpPort as number });
    const reader = new Reader(socket);
    socket.write(Buffer.from([0x05]));
    await reader.untilEnded();
    await waitFor('the stalling connection to close', () => stalling.connectionCount === 0);
    await stalling.close();
  });

  it('close() reports and closes the connections still open', async () => {
    const server = new Socks5Server({ vm: 'web', tcpPort: 0, decide: async () => ({ action: 'allow', reason: 't', connectTo: { host: '127.0.0.1', port: echoPort } }) });
    await server.listen();
    const open = await socksConnect({ port: server.tcpPort as number }, { domain: 'echo.test' }, echoPort);
    expect(open.reply).toBe(REPLY.succeeded);
    expect(await server.close()).toBe(1);
    await open.reader.untilEnded();
  });

  it('a real TLS client through the proxy verifies the server certificate', async () => {
    decide = async () => ({ action: 'allow', reason: 'test', connectTo: { host: '127.0.0.1', port: tlsPort } });
    const { reply, socket } = await socksConnect({ port: proxyPort }, { domain: 'secure.test' }, tlsPort);
    expect(reply).toBe(REPLY.succeeded);
    const text = await new Promise<string>((resolve, reject) => {
      const secure = tlsConnect({ socket, servername: 'secure.test', ca: certPem });
      let out = '';
      secure.on('data', (d: Buffer) => (out += d.toString()));
      secure.on('end', () => {
        secure.destroy();
        resolve(out);
      });
      secure.on('error', reject);
    });
    expect(text).toBe('tls hello secure.test');
    await waitFor('every connection to close', () => socks.connectionCount === 0);
  });
});

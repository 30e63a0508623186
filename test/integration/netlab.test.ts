// The test internet (test/helpers/netlab.ts) as the tests that use it see it
// from the host: real HTTP, HTTPS, TCP and DNS clients talk to its servers, and
// nothing of it is left once it is closed, or once its process died without
// closing it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as dns } from 'node:dns';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli';
import { startTestInternet, testInternetSupport, type TestInternet } from '../helpers/netlab';

const support = testInternetSupport();
if (!support.ok) console.warn(`integration/netlab: skipped because ${support.why}; the test internet needs root and network namespaces (CI has both).`);

const TYPE_A = 1;
const TYPE_AAAA = 28;
const RCODE_NXDOMAIN = 3;
/** REPLY_MS bounds each wait for a server's bytes, so a server that stays silent fails fast. */
const REPLY_MS = 5000;

let net: TestInternet;

interface Reply {
  readonly status: number;
  readonly body: string;
}

/** get fetches over HTTP (no keep-alive agent, so no socket outlives the test). */
function get(address: string, port: number, path: string, host: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: address, port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** getTls fetches over HTTPS from `address`, asking for `servername`; `ca` undefined means the system's CAs. */
function getTls(address: string, servername: string, ca: string | undefined, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: address, port: net.ports.https, servername, ca, path, headers: { host: servername }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** within rejects when `promise` has not settled after REPLY_MS. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${REPLY_MS / 1000} s`)), REPLY_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** readUntil resolves with everything the socket sent once it includes `text`. */
function readUntil(socket: Socket, text: string): Promise<string> {
  return within(new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (!seen.includes(text)) return;
      socket.off('data', onData);
      resolve(seen);
    };
    socket.on('data', onData);
    socket.once('error', reject);
  }), `${JSON.stringify(text)} from the TCP server`);
}

function resolver(): dns.Resolver {
  const r = new dns.Resolver({ timeout: 2000, tries: 1 });
  r.setServers([net.dnsServer]);
  return r;
}

/** dnsQuery encodes a one-question query (RFC 1035) with recursion desired. */
function dnsQuery(id: number, name: string, type: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  const labels = name.split('.').filter(Boolean).map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)]));
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, ...labels, Buffer.from([0]), tail]);
}

interface DnsReply {
  readonly id: number;
  readonly rcode: number;
  readonly addresses: readonly string[];
}

/** skipName steps over a (possibly compressed) name and returns the offset after it. */
function skipName(message: Buffer, offset: number): number {
  let at = offset;
  while ((message[at] ?? 0) !== 0) {
    if (((message[at] ?? 0) & 0xc0) === 0xc0) return at + 2;
    at += (message[at] ?? 0) + 1;
  }
  return at + 1;
}

/** parseDnsReply reads a response's id, rcode and the addresses of its A records. */
function parseDnsReply(message: Buffer): DnsReply {
  const answers = message.readUInt16BE(6);
  let at = skipName(message, 12) + 4;
  const addresses: string[] = [];
  for (let i = 0; i < answers; i++) {
    at = skipName(message, at);
    const type = message.readUInt16BE(at);
    const length = message.readUInt16BE(at + 8);
    if (type === TYPE_A) addresses.push(Array.from(message.subarray(at + 10, at + 14)).join('.'));
    at += 10 + length;
  }
  return { id: message.readUInt16BE(0), rcode: message.readUInt16BE(2) & 0x0f, addresses };
}

function framed(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length, 0);
  return Buffer.concat([length, message]);
}

/** nextFrame resolves with the next length-prefixed DNS message (RFC 7766) the socket sends. */
function nextFrame(socket: Socket, pending: { buffer: Buffer }): Promise<Buffer> {
  return within(new Promise((resolve, reject) => {
    const take = (): boolean => {
      if (pending.buffer.length < 2 || pending.buffer.length < 2 + pending.buffer.readUInt16BE(0)) return false;
      const length = pending.buffer.readUInt16BE(0);
      const message = pending.buffer.subarray(2, 2 + length);
      pending.buffer = pending.buffer.subarray(2 + length);
      resolve(message);
      return true;
    };
    if (take()) return;
    const onData = (chunk: Buffer) => {
      pending.buffer = Buffer.concat([pending.buffer, chunk]);
      if (take()) socket.off('data', onData);
    };
    socket.on('data', onData);
    socket.once('error', reject);
  }), 'DNS reply over TCP');
}

/**
 * dnsOverTcp sends queries on one TCP connection. One by one, it waits for
 * each reply before the next query and writes each frame in two pieces (the
 * length, then the message), so the server must reassemble what TCP splits.
 * Pipelined, it writes every frame at once, so the server must split them.
 */
async function dnsOverTcp(queries: readonly Buffer[], mode: 'one-by-one' | 'pipelined'): Promise<DnsReply[]> {
  const [address = '', port = ''] = net.dnsServer.split(':');
  const socket = connect(Number(port), address);
  const pending = { buffer: Buffer.alloc(0) };
  const replies: DnsReply[] = [];
  try {
    if (mode === 'pipelined') socket.write(Buffer.concat(queries.map(framed)));
    for (const query of queries) {
      if (mode === 'one-by-one') {
        const frame = framed(query);
        socket.write(frame.subarray(0, 2));
        socket.write(frame.subarray(2));
      }
      replies.push(parseDnsReply(await nextFrame(socket, pending)));
    }
  } finally {
    socket.destroy();
  }
  return replies;
}

function ipOutput(args: readonly string[]): string {
  return spawnSync('ip', args, { encoding: 'utf8' }).stdout;
}

/**
 * Footprint is what an instance put on the host. hostIndex tells its host end
 * from a link of the same name that a parallel test makes on the same subnet
 * once this one is gone.
 */
interface Footprint {
  readonly namespace: string;
  readonly subnet: string;
  readonly interfaces: { readonly host: string; readonly namespace: string };
  readonly hostIndex: number;
  /** directory holds the test CA and the server's key. */
  readonly directory: string;
}

function footprint(instance: TestInternet): Footprint {
  const { namespace, subnet, interfaces } = instance;
  return { namespace, subnet, interfaces, hostIndex: Number(readFileSync(`/sys/class/net/${interfaces.host}/ifindex`, 'utf8')), directory: dirname(instance.caCertPath) };
}

/**
 * leftovers lists what of an instance the host still shows: its namespace,
 * its host end (by index), its namespace end (never on the host), a route
 * to its subnet through its host end, and its temp directory.
 */
function leftovers(instance: Footprint): string[] {
  const found: string[] = [];
  if (ipOutput(['netns', 'list']).split('\n').some((line) => line.split(' ')[0] === instance.namespace)) found.push(`namespace ${instance.namespace}`);
  const links = new Map(ipOutput(['-o', 'link', 'show']).split('\n').flatMap((line) => {
    const match = /^(\d+): ([^@:]+)/.exec(line);
    return match ? [[match[2], Number(match[1])] as const] : [];
  }));
  const hostEndIsOurs = links.get(instance.interfaces.host) === instance.hostIndex;
  if (hostEndIsOurs) found.push(`link ${instance.interfaces.host}`);
  if (links.has(instance.interfaces.namespace)) found.push(`link ${instance.interfaces.namespace}`);
  const routes = ipOutput(['-4', 'route', 'show', 'table', 'all']).split('\n');
  if (hostEndIsOurs && routes.some((line) => line.startsWith(`${instance.subnet} dev ${instance.interfaces.host} `))) found.push(`route ${instance.subnet}`);
  if (existsSync(instance.directory)) found.push(`directory ${instance.directory}`);
  return found;
}

describe.skipIf(!support.ok)('an internet of our own', () => {
  beforeAll(async () => {
    net = await startTestInternet({ names: { 'Extra.Example.Test.': 'tcp' } });
  });

  afterAll(async () => {
    await net?.close();
  });

  it('answers HTTP on the web address with a body naming the server, address, Host and path', async () => {
    const reply = await get(net.addresses.web, net.ports.http, '/x', 'api.example.test');
    expect(reply).toEqual({ status: 200, body: `hello from web ${net.addresses.web} host=api.example.test path=/x\n` });
  });

  it('records an HTTP request with its method, path, Host and the host end as its source', async () => {
    await get(net.addresses.web, net.ports.http, '/recorded', 'api.example.test');
    expect(await net.requests()).toContainEqual({
      server: 'web',
      method: 'GET',
      path: '/recorded',
      host: 'api.example.test',
      sni: null,
      authorization: null,
      remoteAddress: net.hostAddress,
      at: expect.any(String),
    });
  });

  it('answers HTTP on the alternate port of every address, naming the server there', async () => {
    for (const server of ['web', 'tls', 'tcp', 'dns'] as const) {
      const reply = await get(net.addresses[server], net.ports.httpAlt, '/alt', 'x.example.test');
      expect(reply).toEqual({ status: 200, body: `hello from ${server} ${net.addresses[server]} host=x.example.test path=/alt\n` });
    }
  });

  it('serves HTTPS that verifies against the test CA for secure.example.test', async () => {
    const reply = await getTls(net.addresses.tls, 'secure.example.test', net.caCertPem, '/s');
    expect(reply).toEqual({ status: 200, body: `hello from tls ${net.addresses.tls} host=secure.example.test path=/s\n` });
  });

  it('records the TLS server name a client asked for', async () => {
    await getTls(net.addresses.tls, 'other.example.test', net.caCertPem, '/sni');
    const seen = (await net.requests()).filter((r) => r.path === '/sni');
    expect(seen).toEqual([expect.objectContaining({ server: 'tls', sni: 'other.example.test', host: 'other.example.test' })]);
  });

  it('fails verification without the test CA', async () => {
    await expect(getTls(net.addresses.tls, 'secure.example.test', undefined, '/')).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('fails verification for a name outside the certificate', async () => {
    await expect(getTls(net.addresses.tls, 'secure.example.org', net.caCertPem, '/')).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  it('runs a non-HTTP TCP server that sends a banner first, then echoes', async () => {
    const socket = connect(net.ports.tcp, net.addresses.tcp);
    try {
      expect(await readUntil(socket, '\n')).toBe(`netlab tcp ${net.addresses.tcp} ready\n`);
      socket.write('echo me\n');
      expect(await readUntil(socket, '\n')).toBe('echo me\n');
    } finally {
      socket.destroy();
    }
  });

  it('resolves its names over UDP through Node\'s resolver, a trailing dot included', async () => {
    const r = resolver();
    expect(await r.resolve4('api.example.test')).toEqual([net.addresses.web]);
    expect(await r.resolve4('SECURE.example.test.')).toEqual([net.addresses.tls]);
    expect(await r.resolve4('raw.example.test')).toEqual([net.addresses.tcp]);
  });

  it('resolves the extra names it was started with', async () => {
    expect(net.names.get('extra.example.test')).toBe(net.addresses.tcp);
    expect(await resolver().resolve4('extra.example.test')).toEqual([net.addresses.tcp]);
  });

  it('answers NXDOMAIN for an unknown name', async () => {
    await expect(resolver().resolve4('unknown.example.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('has no AAAA record for a known name', async () => {
    await expect(resolver().resolve6('api.example.test')).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('records DNS questions with their type and name', async () => {
    await resolver().resolve6('raw.example.test').catch(() => undefined);
    expect(await net.requests()).toContainEqual(expect.objectContaining({ server: 'dns', method: 'AAAA', host: 'raw.example.test', remoteAddress: net.hostAddress }));
  });

  it('answers several queries on one TCP connection with 2-byte framing, whatever their case', async () => {
    const replies = await dnsOverTcp([dnsQuery(0x1234, 'api.example.test', TYPE_A), dnsQuery(0x5678, 'SECURE.example.test', TYPE_A)], 'one-by-one');
    expect(replies).toEqual([
      { id: 0x1234, rcode: 0, addresses: [net.addresses.web] },
      { id: 0x5678, rcode: 0, addresses: [net.addresses.tls] },
    ]);
  });

  it('answers queries pipelined in one TCP write', async () => {
    const replies = await dnsOverTcp([dnsQuery(7, 'raw.example.test', TYPE_A), dnsQuery(8, 'api.example.test', TYPE_A)], 'pipelined');
    expect(replies).toEqual([
      { id: 7, rcode: 0, addresses: [net.addresses.tcp] },
      { id: 8, rcode: 0, addresses: [net.addresses.web] },
    ]);
  });

  it('answers NXDOMAIN and an empty AAAA over TCP too', async () => {
    const replies = await dnsOverTcp([dnsQuery(1, 'unknown.example.test', TYPE_A), dnsQuery(2, 'api.example.test', TYPE_AAAA)], 'one-by-one');
    expect(replies).toEqual([
      { id: 1, rcode: RCODE_NXDOMAIN, addresses: [] },
      { id: 2, rcode: 0, addresses: [] },
    ]);
  });

  it('gives the namespace no route beyond its own /24', () => {
    const ipv4 = ipOutput(['-n', net.namespace, '-4', 'route', 'show']).trim().split('\n');
    expect(ipv4).toEqual([expect.stringMatching(new RegExp(`^${net.subnet.replaceAll('.', '\\.')} dev ${net.interfaces.namespace} `))]);
    expect(ipOutput(['-n', net.namespace, '-6', 'route', 'show']).trim()).toBe('');
  });

  it('gives two instances at once different subnets, namespaces and veth pairs', async () => {
    const second = await startTestInternet();
    try {
      expect(second.subnet).not.toBe(net.subnet);
      expect(second.namespace).not.toBe(net.namespace);
      expect(second.interfaces.host).not.toBe(net.interfaces.host);
      expect((await get(second.addresses.web, second.ports.http, '/', 'api.example.test')).body).toContain(`hello from web ${second.addresses.web} `);
    } finally {
      await second.close();
    }
  });

  it('removes the namespace, both veth ends and the host route on close()', async () => {
    const instance = await startTestInternet();
    const trace = footprint(instance);
    expect(leftovers(trace)).toEqual([`namespace ${instance.namespace}`, `link ${instance.interfaces.host}`, `route ${instance.subnet}`, `directory ${trace.directory}`]);
    await instance.close();
    expect(leftovers(trace)).toEqual([]);
  });

  describe('after a test process that never called close()', () => {
    let driverDir: string;

    /** DRIVER starts a test internet in its own process, prints where it is, then throws or waits to be killed. */
    const DRIVER = `import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { startTestInternet } from './netlab.mjs';
const net = await startTestInternet();
const hostIndex = Number(readFileSync('/sys/class/net/' + net.interfaces.host + '/ifindex', 'utf8'));
const directory = dirname(net.caCertPath);
process.stdout.write(JSON.stringify({ namespace: net.namespace, subnet: net.subnet, interfaces: net.interfaces, hostIndex, directory }) + '\\n');
if (process.argv[2] === 'throw') throw new Error('a test failed before close()');
setInterval(() => undefined, 1000);
`;

    beforeAll(async () => {
      driverDir = await mkdtemp(join(tmpdir(), 'xray-netlab-driver-'));
      await build({
        entryPoints: [join(REPO, 'test', 'helpers', 'netlab.ts')],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        outfile: join(driverDir, 'netlab.mjs'),
        logLevel: 'silent',
      });
      await copyFile(join(REPO, 'test', 'helpers', 'netlab-server.mjs'), join(driverDir, 'netlab-server.mjs'));
      await writeFile(join(driverDir, 'driver.mjs'), DRIVER);
    });

    afterAll(async () => {
      await rm(driverDir, { recursive: true, force: true });
    });

    interface Driver {
      readonly child: ChildProcess;
      readonly footprint: Footprint;
      readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
    }

    /** startDriver starts the driver and resolves once it has printed where its test internet is. */
    function startDriver(mode: 'throw' | 'hang'): Promise<Driver> {
      const child = spawn(process.execPath, [join(driverDir, 'driver.mjs'), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      return new Promise((resolve, reject) => {
        let stdout = '';
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('\n')) resolve({ child, exited, footprint: JSON.parse(stdout.split('\n')[0] ?? '') as Footprint });
        });
        child.once('error', reject);
        void exited.then(() => reject(new Error(`the driver exited before starting a test internet: ${stderr}`)));
      });
    }

    /** enterNamespace starts a process inside `namespace` and resolves once it is in. */
    function enterNamespace(namespace: string): Promise<ChildProcess> {
      const child = spawn('ip', ['netns', 'exec', namespace, 'sh', '-c', 'echo inside && exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
      return within(new Promise((resolve, reject) => {
        child.stdout.once('data', () => resolve(child));
        child.once('error', reject);
      }), `process inside ${namespace}`);
    }

    it('its exit handler leaves nothing behind when the process dies of a thrown error', async () => {
      const driver = await startDriver('throw');
      expect(await driver.exited).toEqual({ code: 1, signal: null });
      expect(leftovers(driver.footprint)).toEqual([]);
    });

    it('its signal handler leaves nothing behind when the process is terminated, as vitest stops a worker', async () => {
      const driver = await startDriver('hang');
      driver.child.kill('SIGTERM');
      expect(await driver.exited).toEqual({ code: null, signal: 'SIGTERM' });
      expect(leftovers(driver.footprint)).toEqual([]);
    });

    it('the next start removes what a killed process left, even with a process still inside its namespace', async () => {
      const driver = await startDriver('hang');
      // A straggler keeps the namespace, and with it the veth pair, alive after `ip netns del`.
      const straggler = await enterNamespace(driver.footprint.namespace);
      try {
        driver.child.kill('SIGKILL');
        await driver.exited;
        expect(leftovers(driver.footprint)).toContain(`namespace ${driver.footprint.namespace}`);
        await (await startTestInternet()).close();
        expect(leftovers(driver.footprint)).toEqual([]);
      } finally {
        straggler.kill();
      }
    });
  });
});

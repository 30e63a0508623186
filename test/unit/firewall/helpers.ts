import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'xray-fw-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** listen starts `server` on a free 127.0.0.1 port and returns the port. */
export function listen(server: Server): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  openSockets.set(server, sockets);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

const openSockets = new WeakMap<object, Set<Socket>>();

/** closeServer stops a test server and drops its connections, whatever their peers do. */
export function closeServer(server: { close(cb: () => void): unknown }): Promise<void> {
  for (const socket of openSockets.get(server) ?? []) socket.destroy();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** echoServer answers every chunk with "echo:" + chunk and half-closes when the client does. */
export async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => socket.write(Buffer.concat([Buffer.from('echo:'), chunk])));
    socket.on('end', () => socket.end('bye'));
  });
  return { server, port: await listen(server) };
}

export type Target = { ip: string } | { domain: string };

export function requestBytes(target: Target, port: number, command = 0x01): Buffer {
  const portBytes = Buffer.from([port >> 8, port & 0xff]);
  if ('domain' in target) {
    const name = Buffer.from(target.domain);
    return Buffer.concat([Buffer.from([0x05, command, 0x00, 0x03, name.length]), name, portBytes]);
  }
  if (target.ip.includes(':')) {
    const groups = target.ip === '::1' ? [0, 0, 0, 0, 0, 0, 0, 1] : target.ip.split(':').map((g) => parseInt(g, 16));
    const bytes = Buffer.alloc(16);
    groups.forEach((g, i) => bytes.writeUInt16BE(g, i * 2));
    return Buffer.concat([Buffer.from([0x05, command, 0x00, 0x04]), bytes, portBytes]);
  }
  return Buffer.concat([Buffer.from([0x05, command, 0x00, 0x01]), Buffer.from(target.ip.split('.').map(Number)), portBytes]);
}

/** Reader collects a socket's bytes so a test can await exact counts. */
export class Reader {
  private data = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  ended = false;
  closed = false;

  private readonly onData = (chunk: Buffer): void => {
    this.data = Buffer.concat([this.data, chunk]);
    this.wake();
  };

  constructor(readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** read resolves with exactly n bytes, or fewer when the socket ends first. */
  async read(n: number): Promise<Buffer> {
    while (this.data.length < n && !this.ended && !this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
    const out = this.data.subarray(0, n);
    this.data = this.data.subarray(out.length);
    return out;
  }

  /** detach stops collecting (for bulk reads) and returns what was collected so far. */
  detach(): Buffer {
    this.socket.off('data', this.onData);
    return this.data;
  }

  /** untilEnded resolves with everything read once the peer has ended or the socket closed. */
  async untilEnded(): Promise<Buffer> {
    while (!this.closed && !this.ended) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.data;
  }
}

export function connectTo(where: { port: number } | { path: string }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = 'port' in where ? connect({ port: where.port, host: '127.0.0.1', allowHalfOpen: true }) : connect({ path: where.path, allowHalfOpen: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * socksConnect performs a SOCKS5 handshake and returns the reply code and a
 * reader positioned after the reply (or at the end, when the server closed).
 */
export async function socksConnect(where: { port: number } | { path: string }, target: Target, port: number, command = 0x01): Promise<{ reply: number | null; socket: Socket; reader: Reader }> {
  const socket = await connectTo(where);
  const reader = new Reader(socket);
  socket.write(Buffer.from([0x05, 0x01, 0x00]));
  const method = await reader.read(2);
  if (method.length < 2 || method[1] !== 0x00) return { reply: null, socket, reader };
  socket.write(requestBytes(target, port, command));
  const reply = await reader.read(10);
  return { reply: reply.length >= 2 ? (reply[1] ?? null) : null, socket, reader };
}

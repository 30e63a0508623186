import { createHash, randomBytes } from 'node:crypto';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientReader } from '../../../src-main/core/firewall/client-reader';

const NODE_READ_BYTES = 64 * 1024;

/**
 * accepting starts a server that pauses on connect, as the proxy's does, and
 * resolves each accepted connection as a ClientReader; `prepare` may alter
 * the accepted socket first.
 */
async function accepting(prepare: (socket: Socket) => void = () => undefined): Promise<{ port: number; next: () => Promise<ClientReader>; server: Server }> {
  const waiting: ((reader: ClientReader) => void)[] = [];
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    prepare(socket);
    const reader = new ClientReader(socket);
    opened.push(reader.socket);
    waiting.shift()?.(reader);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { port, server, next: () => new Promise((resolve) => waiting.push(resolve)) };
}

const servers: Server[] = [];
const opened: Socket[] = [];

afterEach(async () => {
  for (const socket of opened.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** collect reads everything the client sends until it ends, releasing each chunk, and notes each read's size. */
function collect(reader: ClientReader): Promise<{ bytes: Buffer; sizes: number[] }> {
  const parts: Buffer[] = [];
  const sizes: number[] = [];
  return new Promise((resolve) => {
    reader.read((chunk) => {
      parts.push(Buffer.from(chunk));
      sizes.push(chunk.length);
      reader.release(chunk);
    });
    reader.socket.once('end', () => resolve({ bytes: Buffer.concat(parts), sizes }));
  });
}

const digest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('ClientReader', () => {
  it("reads an accepted connection into its own slabs, more than Node's 64 KiB at a time, every byte intact", async () => {
    const { port, next } = await accepting();
    const client = connect(port, '127.0.0.1');
    const reader = await next();
    expect(reader.slabbed).toBe(true);
    const payload = randomBytes(16 * 1024 * 1024);
    const received = collect(reader);
    client.end(payload);
    const { bytes, sizes } = await received;
    expect(digest(bytes)).toBe(digest(payload));
    expect(Math.max(...sizes)).toBeGreaterThan(NODE_READ_BYTES);
  });

  it('holds what arrives while no sink reads, and hands it, after what was put back, to the next sink', async () => {
    const { port, next } = await accepting();
    const client = connect(port, '127.0.0.1');
    const reader = await next();
    const first = await new Promise<Buffer>((resolve) => {
      reader.read((chunk) => {
        const copy = Buffer.from(chunk);
        reader.release(chunk);
        reader.stop();
        resolve(copy);
      });
      client.write('hello');
    });
    expect(first.toString()).toBe('hello');
    reader.putBack(Buffer.from('[back]'));
    client.end(' and the rest');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { bytes } = await collect(reader);
    expect(bytes.toString()).toBe('[back] and the rest');
  });

  it('gives the bytes back to the socket as a stream for a consumer that needs one', async () => {
    const { port, next } = await accepting();
    const client = connect(port, '127.0.0.1');
    const reader = await next();
    reader.putBack(Buffer.from('early '));
    reader.toStream();
    const parts: Buffer[] = [];
    reader.socket.on('data', (chunk: Buffer) => parts.push(chunk));
    reader.socket.resume();
    client.end('late');
    await new Promise((resolve) => reader.socket.once('end', resolve));
    expect(Buffer.concat(parts).toString()).toBe('early late');
  });

  it("does not hold up the server's close once its own connections are closed", async () => {
    const { port, next, server } = await accepting();
    connect(port, '127.0.0.1');
    const reader = await next();
    reader.socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    servers.length = 0;
  });

  // A fake of a Node whose socket handles cannot read into a caller's buffer: the reader must fall back to 'data' events.
  it('falls back to the socket\'s own reads where its handle cannot be adopted, behind the same interface', async () => {
    const { port, next } = await accepting((socket) => {
      Object.defineProperty((socket as unknown as { _handle: object })._handle, 'useUserBuffer', { value: undefined });
    });
    const client = connect(port, '127.0.0.1');
    const reader = await next();
    expect(reader.slabbed).toBe(false);
    reader.putBack(Buffer.from('put back, '));
    const payload = randomBytes(1024 * 1024);
    const received = collect(reader);
    client.end(payload);
    const { bytes } = await received;
    expect(digest(bytes)).toBe(digest(Buffer.concat([Buffer.from('put back, '), payload])));
  });
});

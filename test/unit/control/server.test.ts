import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Method, Params, Results, XrayApi, XrayEvent } from '../../../src-main/shared/contract';
import { ControlClient } from '../../../src-main/core/control/client';
import { LineReader } from '../../../src-main/core/control/protocol';
import { ControlServer } from '../../../src-main/core/control/server';
import { waitFor } from '../../helpers/wait';

/** BurstApi is a stand-in service whose every call emits a burst of log events before answering. */
class BurstApi implements XrayApi {
  private readonly listeners = new Set<(event: XrayEvent) => void>();
  constructor(private readonly burst: number) {}

  async call<M extends Method>(_method: M, _params: Params<M>): Promise<Results[M]> {
    for (let i = 0; i < this.burst; i++) this.emit({ type: 'log', level: 'info', source: 'test', message: String(i) });
    return [] as unknown as Results[M];
  }

  emit(event: XrayEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  subscribe(listener: (event: XrayEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

describe('ControlServer events', () => {
  let dir: string;
  let server: ControlServer;
  let api: BurstApi;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xray-control-'));
    api = new BurstApi(500);
    server = new ControlServer(api, join(dir, 'xray.sock'));
    await server.listen();
  });

  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a burst of events in order, all before the reply to the call that caused them', async () => {
    const socket = connect(join(dir, 'xray.sock'));
    socket.setEncoding('utf8');
    const lines: string[] = [];
    let buffered = '';
    const replyTo = (id: number): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (lines.some((line) => (JSON.parse(line) as { id?: number }).id === id)) resolve();
          else socket.once('data', check);
        };
        check();
      });
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
    });
    socket.write(`${JSON.stringify({ id: 1, subscribe: true })}\n`);
    await replyTo(1);
    socket.write(`${JSON.stringify({ id: 2, method: 'vm.list', params: {} })}\n`);
    await replyTo(2);
    const messages = lines.slice(1).map((line) => JSON.parse(line) as { id?: number; event?: { message: string } });
    expect(messages.map((m) => (m.id !== undefined ? `reply ${m.id}` : m.event?.message))).toEqual([...Array.from({ length: 500 }, (_, i) => String(i)), 'reply 2']);
    socket.destroy();
  });

  it('delivers events emitted outside any call, to every subscriber', async () => {
    const clients = await Promise.all([1, 2].map(() => ControlClient.connect(join(dir, 'xray.sock'))));
    const seen: string[][] = [[], []];
    await Promise.all(clients.map((c, i) => c.subscribeAndWait((event) => event.type === 'log' && seen[i]?.push(event.message))));
    api.emit({ type: 'log', level: 'warn', source: 'test', message: 'one' });
    api.emit({ type: 'log', level: 'warn', source: 'test', message: 'two' });
    await waitFor('both events at both subscribers', () => seen.every((s) => s.length === 2));
    expect(seen).toEqual([['one', 'two'], ['one', 'two']]);
    for (const c of clients) c.close();
  });
});

describe('LineReader', () => {
  it('gives whole lines however the chunks fall, and skips blank ones', () => {
    const lines: string[] = [];
    const reader = new LineReader((line) => lines.push(line), 100);
    for (const chunk of ['{"a"', ':1}\n\n{"b":', '2}\n{"c"', ':3}\n']) expect(reader.push(chunk)).toBe(true);
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('refuses a line longer than its cap, whether or not its newline has come', () => {
    expect(new LineReader(() => {}, 10).push('x'.repeat(11))).toBe(false);
    expect(new LineReader(() => {}, 10).push(`${'x'.repeat(11)}\n`)).toBe(false);
    const pieces = new LineReader(() => {}, 10);
    expect(pieces.push('x'.repeat(6))).toBe(true);
    expect(pieces.push('x'.repeat(6))).toBe(false);
  });
});

describe('ControlServer under clients that never end a line', () => {
  let dir: string;
  let server: ControlServer;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xray-control-'));
    server = new ControlServer(new BurstApi(0), join(dir, 'xray.sock'));
    await server.listen();
  });

  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('drops each once it passes the request cap, and answers a well-behaved client meanwhile', async () => {
    const floods = Array.from({ length: 20 }, () => {
      const socket = connect(join(dir, 'xray.sock'));
      socket.on('error', () => undefined);
      const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(socket.bytesWritten)));
      const chunk = 'x'.repeat(64 * 1024);
      const pump = (): void => {
        for (let sent = 0; sent < 15 * 1024 * 1024 && !socket.destroyed; sent += chunk.length) {
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      socket.once('connect', pump);
      return closed;
    });
    const client = await ControlClient.connect(join(dir, 'xray.sock'));
    expect(await client.call('vm.list', {})).toEqual([]);
    client.close();
    const written = await Promise.all(floods);
    for (const bytes of written) expect(bytes).toBeLessThan(15 * 1024 * 1024);
  }, 60_000);
});

import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Method, Params, Results, XrayApi, XrayEvent } from '../../../src-main/core/api/contract';
import { ControlClient } from '../../../src-main/core/control/client';
import { ControlServer } from '../../../src-main/core/control/server';

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
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen).toEqual([['one', 'two'], ['one', 'two']]);
    for (const c of clients) c.close();
  });
});

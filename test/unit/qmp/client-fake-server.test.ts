import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LineDecoder,
  QmpClient,
  QmpCommandError,
  QmpConnectError,
  QmpDisconnectedError,
  QmpTimeoutError,
} from '../../../src-main/core/qmp';

const GREETING = '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "Débian"}, "capabilities": ["oob"]}}\n';

/**
 * fakeQmpServer is a Unix socket server scripted by each test: it stands in for
 * QEMU (or for something that is not QEMU) where real QEMU cannot be made to
 * misbehave on purpose.
 */
async function fakeQmpServer(path: string, onConnection: (socket: Socket) => void): Promise<Server> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

/** answerLines calls `answer` with each JSON command the client sends. */
function answerLines(socket: Socket, answer: (command: { execute: string; id: string }) => void): void {
  const decoder = new LineDecoder();
  socket.on('data', (chunk: Buffer) => {
    for (const line of decoder.push(chunk)) answer(JSON.parse(line));
  });
}

/** negotiating greets and accepts qmp_capabilities, then hands commands to `rest`. */
function negotiating(rest: (socket: Socket, command: { execute: string; id: string }) => void) {
  return (socket: Socket): void => {
    socket.write(GREETING);
    answerLines(socket, (command) => {
      if (command.execute === 'qmp_capabilities') socket.write(`{"return": {}, "id": "${command.id}"}\n`);
      else rest(socket, command);
    });
  };
}

async function connectError(path: string, timeoutMs = 1_000, signal?: AbortSignal): Promise<QmpConnectError> {
  const err = await QmpClient.connect(path, { timeoutMs, signal }).then(
    () => new Error('connect unexpectedly succeeded'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QmpConnectError);
  return err as QmpConnectError;
}

describe('QmpClient against fake servers', () => {
  let dir: string;
  let sock: string;
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  const clients: QmpClient[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'xray-qmp-'));
    sock = join(dir, 'q.sock');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(onConnection: (socket: Socket) => void): Promise<void> {
    servers.push(await fakeQmpServer(sock, (socket) => {
      sockets.push(socket);
      onConnection(socket);
    }));
  }

  async function connect(): Promise<QmpClient> {
    const client = await QmpClient.connect(sock, { timeoutMs: 2_000, commandTimeoutMs: 2_000 });
    clients.push(client);
    return client;
  }

  it('fails at the connect stage when the socket does not exist', async () => {
    const err = await connectError(sock);
    expect(err.stage).toBe('connect');
    expect(err.code).toBe('qmp');
    expect(err.message).toContain('does not exist');
    expect(err.message).toContain(sock);
  });

  it('fails at the connect stage when the path is a plain file', async () => {
    writeFileSync(sock, 'not a socket');
    const err = await connectError(sock);
    expect(err.stage).toBe('connect');
  });

  it('fails at the greeting stage, quoting it, when the peer talks garbage', async () => {
    await serve((socket) => socket.write('SSH-2.0-OpenSSH_9.2\r\n'));
    const started = Date.now();
    const err = await connectError(sock, 5_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err.stage).toBe('greeting');
    expect(err.received).toBe('SSH-2.0-OpenSSH_9.2');
    expect(err.message).toContain('not JSON');
  });

  it('fails at the greeting stage when the peer sends JSON that is not a greeting', async () => {
    await serve((socket) => socket.write('{"return": {}}\n'));
    const err = await connectError(sock);
    expect(err.stage).toBe('greeting');
    expect(err.message).toContain('not a QMP greeting');
  });

  it('fails at the greeting stage within the timeout when the peer says nothing', async () => {
    await serve(() => undefined);
    const started = Date.now();
    const err = await connectError(sock, 300);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(err.stage).toBe('greeting');
    expect(err.message).toContain('300 ms');
  });

  it('fails at the greeting stage when the peer hangs up at once', async () => {
    await serve((socket) => socket.end());
    const err = await connectError(sock);
    expect(err.stage).toBe('greeting');
    expect(err.message).toContain('without sending a QMP greeting');
  });

  it('fails at the negotiation stage with what QEMU answered', async () => {
    await serve((socket) => {
      socket.write(GREETING);
      answerLines(socket, (command) =>
        socket.write(`{"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete"}, "id": "${command.id}"}\n`),
      );
    });
    const err = await connectError(sock);
    expect(err.stage).toBe('negotiation');
    expect(err.message).toContain('Capabilities negotiation is already complete');
    expect(err.received).toContain('CommandNotFound');
    expect(err.cause).toBeInstanceOf(QmpCommandError);
  });

  it('stops connecting when the caller aborts', async () => {
    await serve(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const err = await connectError(sock, 10_000, controller.signal);
    expect(err.stage).toBe('greeting');
    expect(err.message).toContain('cancelled');
  });

  it('connectWhenReady waits for a socket that starts listening late', async () => {
    setTimeout(() => void serve(negotiating(() => undefined)), 200);
    const client = await QmpClient.connectWhenReady(sock, { timeoutMs: 3_000, retryIntervalMs: 20 });
    clients.push(client);
    expect(client.version.qemu.major).toBe(7);
  });

  it('connectWhenReady gives up at its deadline and does not retry a wrong answer', async () => {
    const started = Date.now();
    const missing = await QmpClient.connectWhenReady(sock, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ stage: 'connect' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(1_500);

    await serve((socket) => socket.write('hello\n'));
    const garbage = await QmpClient.connectWhenReady(sock, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(garbage).toMatchObject({ stage: 'greeting' });
  });

  it('reassembles lines cut anywhere, even inside a UTF-8 character', async () => {
    await serve((socket) => {
      const bytes = Buffer.from(GREETING);
      for (let i = 0; i < bytes.length; i += 1) socket.write(bytes.subarray(i, i + 1));
      answerLines(socket, (command) => socket.write(`{"return": {}, "id": "${command.id}"}\n`));
    });
    const client = await connect();
    expect(client.version.qemu).toEqual({ major: 7, minor: 2, micro: 0 });
    expect(client.version.package).toBe('Débian');
  });

  it('routes out-of-order replies by id and events to subscribers only', async () => {
    const held: string[] = [];
    await serve(negotiating((socket, command) => {
      held.push(command.id);
      if (held.length < 2) return;
      socket.write(
        '{"event": "STOP", "data": {}, "timestamp": {"seconds": 1, "microseconds": 2}}\n' +
          `{"return": "second", "id": "${held[1]}"}\n{"return": "first", "id": "${held[0]}"}\n`,
      );
    }));
    const client = await connect();
    const events: string[] = [];
    client.onEvent((event) => events.push(event.event));
    const [first, second] = await Promise.all([client.execute('a'), client.execute('b')]);
    expect([first, second]).toEqual(['first', 'second']);
    expect(events).toEqual(['STOP']);
  });

  it('keeps delivering events to other listeners when one throws', async () => {
    await serve(negotiating((socket, command) => {
      socket.write('{"event": "RESET", "data": {"guest": true}, "timestamp": {"seconds": 1, "microseconds": 0}}\n');
      socket.write(`{"return": {}, "id": "${command.id}"}\n`);
    }));
    const thrown: unknown[] = [];
    const client = await QmpClient.connect(sock, { timeoutMs: 2_000, onListenerError: (err) => thrown.push(err) });
    clients.push(client);
    client.onEvent(() => {
      throw new Error('listener bug');
    });
    const reset = client.waitForEvent('RESET', (event) => event.data.guest === true);
    await client.execute('system_reset');
    expect((await reset).event).toBe('RESET');
    expect(thrown).toHaveLength(1);
    expect(await client.execute('query-status')).toEqual({});
  });

  it('times out a command, drops its late reply, and keeps working', async () => {
    let answerLate = (): void => undefined;
    await serve(negotiating((socket, command) => {
      const reply = `{"return": "${command.execute}", "id": "${command.id}"}\n`;
      if (command.execute === 'slow') answerLate = () => socket.write(reply);
      else socket.write(reply);
    }));
    const client = await connect();
    const err = await client.execute('slow', { x: 1 }, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpTimeoutError);
    expect((err as QmpTimeoutError).command).toBe('slow');
    expect((err as QmpTimeoutError).timeoutMs).toBe(50);
    expect((err as QmpTimeoutError).sent?.arguments).toEqual({ x: 1 });
    // The late reply reaches the client before fast's own, on the same stream.
    answerLate();
    expect(await client.execute('fast')).toBe('fast');
  });

  it('treats a non-JSON line after negotiation as a broken connection', async () => {
    await serve(negotiating((socket) => socket.write('garbage\n')));
    const client = await connect();
    const err = await client.execute('query-status').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpDisconnectedError);
    expect((err as QmpDisconnectedError).reason).toContain('not JSON');
    expect(await client.closed).toBeInstanceOf(QmpDisconnectedError);
  });

  it('fails waiting commands and event waits when the client closes, and resolves closed with null', async () => {
    await serve(negotiating(() => undefined));
    const client = await connect();
    const pending = client.execute('never').catch((e: unknown) => e);
    const waiting = client.waitForEvent('SHUTDOWN').catch((e: unknown) => e);
    await client.close();
    expect(await pending).toBeInstanceOf(QmpDisconnectedError);
    expect(await waiting).toBeInstanceOf(QmpDisconnectedError);
    expect(await client.closed).toBeNull();
    await expect(client.execute('after')).rejects.toBeInstanceOf(QmpDisconnectedError);
  });
});

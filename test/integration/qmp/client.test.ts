import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  QmpClient,
  QmpCommandError,
  QmpDisconnectedError,
  QmpTimeoutError,
  cont,
  queryStatus,
  quit,
  stop,
} from '../../../src-main/core/qmp';
import { startQemu, type TestVm } from './qemu-vm';

describe('QmpClient with real QEMU (x86_64, TCG)', () => {
  let vm: TestVm;
  let client: QmpClient;

  beforeEach(async () => {
    vm = await startQemu();
    client = await QmpClient.connectWhenReady(vm.qmpSocket, { timeoutMs: 10_000, commandTimeoutMs: 10_000 });
  });

  afterEach(async () => {
    await client.close();
    await vm.kill();
  });

  it('reads the version from the greeting and answers query-status', async () => {
    expect(client.version.qemu.major).toBeGreaterThanOrEqual(7);
    expect(client.version.package).not.toBe('');
    expect(await queryStatus(client)).toEqual({ running: true, status: 'running' });
  });

  it('delivers STOP and RESUME events after stop and cont', async () => {
    const stopped = client.waitForEvent('STOP');
    await stop(client);
    await stopped;
    expect(await queryStatus(client)).toEqual({ running: false, status: 'paused' });

    const seen: string[] = [];
    const unsubscribe = client.onEvent((event) => seen.push(event.event));
    const resumed = client.waitForEvent('RESUME');
    await cont(client);
    const event = await resumed;
    unsubscribe();
    expect(seen).toContain('RESUME');
    expect(event.timestamp.seconds).toBeGreaterThan(0);
    expect((await queryStatus(client)).running).toBe(true);
  });

  it('gives each of 50 concurrent commands its own reply', async () => {
    const commands = Array.from({ length: 50 }, (_, i) => ['query-status', 'query-version', 'query-name'][i % 3]!);
    const replies = await Promise.all(commands.map((command) => client.execute<Record<string, unknown>>(command)));
    replies.forEach((reply, i) => {
      if (commands[i] === 'query-status') expect(reply).toHaveProperty('status', 'running');
      else if (commands[i] === 'query-version') expect(reply).toHaveProperty('qemu.major', client.version.qemu.major);
      else expect(reply).toEqual({});
    });
  });

  it('reads a reply of hundreds of kilobytes', async () => {
    const schema = await client.execute<unknown[]>('query-qmp-schema');
    expect(JSON.stringify(schema).length).toBeGreaterThan(100_000);
  });

  it('reports QEMU errors with their class, description and the command sent', async () => {
    const unknown = await client.execute('no-such-command').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(QmpCommandError);
    expect((unknown as QmpCommandError).errorClass).toBe('CommandNotFound');
    expect((unknown as QmpCommandError).command).toBe('no-such-command');
    expect((unknown as QmpCommandError).message).toContain('no-such-command');

    const bad = await client.execute('qom-get', { path: '/machine/nope', property: 'type' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(QmpCommandError);
    expect((bad as QmpCommandError).errorClass).toBe('DeviceNotFound');
    expect((bad as QmpCommandError).desc).toContain('/machine/nope');
    expect((bad as QmpCommandError).sent.arguments).toEqual({ path: '/machine/nope', property: 'type' });
    expect((bad as QmpCommandError).code).toBe('qmp');
  });

  it('times out a command QEMU does not answer, and works again afterwards', async () => {
    vm.process.kill('SIGSTOP');
    try {
      const err = await client.execute('query-status', undefined, { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QmpTimeoutError);
      expect((err as QmpTimeoutError).timeoutMs).toBe(300);
      expect((err as QmpTimeoutError).command).toBe('query-status');
    } finally {
      vm.process.kill('SIGCONT');
    }
    expect(await client.execute('query-version')).toHaveProperty('qemu');
  });

  it('fails every pending command and resolves closed when QEMU is killed', async () => {
    vm.process.kill('SIGSTOP');
    const pending = ['query-status', 'query-version', 'query-name'].map((command) =>
      client.execute(command).catch((e: unknown) => e),
    );
    const event = client.waitForEvent('SHUTDOWN').catch((e: unknown) => e);
    vm.process.kill('SIGKILL');
    for (const err of await Promise.all(pending)) expect(err).toBeInstanceOf(QmpDisconnectedError);
    expect((await pending[1]) as QmpDisconnectedError).toHaveProperty('command', 'query-version');
    expect(await event).toBeInstanceOf(QmpDisconnectedError);
    expect(await client.closed).toBeInstanceOf(QmpDisconnectedError);
    expect(client.isClosed).toBe(true);
  });

  it('quits QEMU and sees the connection end', async () => {
    await quit(client);
    await vm.exited;
    expect(vm.process.exitCode).toBe(0);
  });
});

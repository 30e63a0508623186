import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FirewallLogEntry } from '../../../src-main/shared/models';
import { FirewallLog } from '../../../src-main/core/firewall/log';
import { tempDir } from './helpers';
import { waitFor } from '../../helpers/wait';

const entry = (port: number): FirewallLogEntry => ({
  at: new Date(0).toISOString(),
  vm: 'web',
  kind: 'decision',
  destination: { ip: '192.0.2.1', port, name: null, nameSource: null, service: null },
  action: 'allow',
  reason: 'test',
});

const portsIn = async (file: string): Promise<number[]> =>
  (await readFile(file, 'utf8')).trim().split('\n').map((line) => (JSON.parse(line) as FirewallLogEntry).destination.port);

describe('FirewallLog', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('keeps the newest entries in memory, oldest first', () => {
    const log = new FirewallLog({ capacity: 3 });
    for (let port = 1; port <= 5; port++) log.append(entry(port));
    expect(log.entries().map((e) => e.destination.port)).toEqual([3, 4, 5]);
    expect(log.entries(2).map((e) => e.destination.port)).toEqual([4, 5]);
  });

  it('writes nothing on the caller’s turn, then every entry as one JSON line, in order', async () => {
    const file = join(dir, 'firewall.log');
    const log = new FirewallLog({ file, writeDelayMs: 10_000 });
    for (let port = 1; port <= 100; port++) log.append(entry(port));
    expect(await readdir(dir)).toEqual([]);
    await log.flush();
    expect(await portsIn(file)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    log.append(entry(101));
    await log.close();
    expect((await portsIn(file)).at(-1)).toBe(101);
  });

  it('writes on its own once the delay has passed, not before', async () => {
    const file = join(dir, 'firewall.log');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const log = new FirewallLog({ file, writeDelayMs: 200 });
      log.append(entry(7));
      await vi.advanceTimersByTimeAsync(199);
      expect(await readdir(dir)).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      await waitFor('the entry in the file', async () => (await readdir(dir)).length > 0 && (await portsIn(file)).length > 0);
      expect(await portsIn(file)).toEqual([7]);
      await log.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('rotates at the size cap and keeps one old file', async () => {
    const file = join(dir, 'firewall.log');
    const lineBytes = JSON.stringify(entry(1000)).length + 1;
    const log = new FirewallLog({ file, maxFileBytes: lineBytes * 10 });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 6; i++) log.append(entry(1000 + round * 6 + i));
      await log.flush();
    }
    await log.close();
    expect((await readdir(dir)).sort()).toEqual(['firewall.log', 'firewall.log.1']);
    expect(await portsIn(`${file}.1`)).toEqual([1006, 1007, 1008, 1009, 1010, 1011]);
    expect(await portsIn(file)).toEqual([1012, 1013, 1014, 1015, 1016, 1017]);
  });

  it('survives a file it cannot write, keeping the entries in memory', async () => {
    const log = new FirewallLog({ file: join(dir, 'missing', 'firewall.log') });
    log.append(entry(1));
    await expect(log.close()).resolves.toBeUndefined();
    expect(log.entries()).toHaveLength(1);
  });
});

// LearnRecorder: what a VM reaches in learn mode, counted, bounded and saved for review.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LEARN_LIMITS } from '../../../src-main/shared/learned';
import type { Destination } from '../../../src-main/shared/models';
import { LearnRecorder, readLearned } from '../../../src-main/core/firewall/learn';
import { tempDir } from './helpers';
import { waitFor } from '../../helpers/wait';

const named = (name: string, port = 443): Destination => ({ ip: '198.18.0.11', port, name, nameSource: 'dns', service: null });

describe('LearnRecorder', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let file: string;
  const warnings: string[] = [];

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    file = join(dir, 'learned.json');
    warnings.length = 0;
  });
  afterEach(() => cleanup());

  it('counts connections by name (else address) and port, and the methods and paths of forwarded requests', async () => {
    const recorder = await LearnRecorder.begin('box', file, { warn: (m) => warnings.push(m) });
    expect(await readLearned(file)).toMatchObject({ vm: 'box', destinations: [] });
    recorder.connection(named('api.example.test'));
    recorder.connection(named('api.example.test'));
    recorder.connection({ ip: '198.18.0.10', port: 80, name: null, nameSource: null, service: null });
    recorder.request({ host: 'api.example.test', port: 443, method: 'GET', path: '/repos/acme/x' });
    recorder.request({ host: 'api.example.test', port: 443, method: 'GET', path: '/repos/acme/x' });
    recorder.request({ host: 'api.example.test', port: 443, method: 'POST', path: '/repos/acme/x' });
    expect(recorder.record().destinations).toEqual([
      expect.objectContaining({ host: 'api.example.test', named: true, port: 443, connections: 2, requests: [{ method: 'GET', path: '/repos/acme/x', count: 2 }, { method: 'POST', path: '/repos/acme/x', count: 1 }] }),
      expect.objectContaining({ host: '198.18.0.10', named: false, port: 80, connections: 1, requests: [] }),
    ]);
    await waitFor('the record on disk', async () => (await readLearned(file))?.destinations.length === 2);
    await recorder.close();
    expect(await readLearned(file)).toEqual(recorder.record());
    expect(warnings).toEqual([]);
  });

  it('keeps at most its limits and counts the rest as dropped', async () => {
    const recorder = await LearnRecorder.begin('box', file, { warn: (m) => warnings.push(m) });
    for (let i = 0; i < LEARN_LIMITS.destinations + 5; i++) recorder.connection(named(`h${i}.example.test`));
    for (let i = 0; i < LEARN_LIMITS.requestsPerDestination + 3; i++) recorder.request({ host: 'h0.example.test', port: 443, method: 'GET', path: `/p/${i}` });
    recorder.request({ host: 'h1.example.test', port: 443, method: 'GET', path: `/${'x'.repeat(LEARN_LIMITS.pathLength)}` });
    const record = recorder.record();
    expect(record.destinations).toHaveLength(LEARN_LIMITS.destinations);
    expect(record.destinations[0]?.requests).toHaveLength(LEARN_LIMITS.requestsPerDestination);
    expect(record.dropped).toBe(5 + 3 + 1);
    await recorder.close();
  });

  it('says so when the record cannot be saved, and refuses to read a file that is not one', async () => {
    const recorder = await LearnRecorder.begin('box', file, { warn: (m) => warnings.push(m) });
    await rm(file);
    await mkdir(join(file, 'in-the-way'), { recursive: true });
    recorder.connection(named('api.example.test'));
    await recorder.close();
    expect(warnings).toEqual([expect.stringMatching(/^VM "box": what learn mode saw could not be saved to .*learned\.json \(.*(EISDIR|ENOTEMPTY|EEXIST)/)]);
    await rm(file, { recursive: true });
    expect(await readLearned(file)).toBeNull();
    await writeFile(file, '{"destinations": 3}');
    await expect(readLearned(file)).rejects.toThrow(`${file} is not a record of learn mode; remove it, or start the VM with --learn again to write a new one.`);
    expect(await readFile(file, 'utf8')).toBe('{"destinations": 3}');
  });
});

// The flight recorder: what a VM did, from the events the service announces.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createService } from '../../../src-main/core/bootstrap';
import type { XrayService } from '../../../src-main/core/service';
import type { XrayEvent } from '../../../src-main/shared/contract';
import { timelineText } from '../../../src-main/shared/format';
import type { Destination } from '../../../src-main/shared/models';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../../helpers/home';

let home: TestHome;
let service: XrayService;
let events: XrayEvent[];

const dest: Destination = { ip: '198.18.0.10', port: 443, name: 'api.example.test', nameSource: 'dns', service: 'https' };

beforeEach(async () => {
  home = await makeTestHome('xray-journal-');
  await addFirmwareOnlyVm(home.paths, 'box');
  service = await createService(home.paths);
  events = [];
  service.subscribe((e) => events.push(e));
});

afterEach(async () => {
  await service.journal.close();
  await home.cleanup();
});

describe('the timeline', () => {
  it('records an offline snapshot taken without a supervisor', async () => {
    await service.call('snapshot.create', { vm: 'box', name: 'clean' });
    const timeline = await service.call('vm.timeline', { vm: 'box' });
    expect(timeline).toEqual([expect.objectContaining({ vm: 'box', kind: 'snapshot', event: 'created', name: 'clean', detail: null })]);
  });

  it('announces each entry as it records it, for live views', async () => {
    await service.call('snapshot.create', { vm: 'box', name: 'clean' });
    expect(events.filter((e) => e.type === 'timeline.entry')).toEqual([{ type: 'timeline.entry', entry: expect.objectContaining({ kind: 'snapshot', name: 'clean' }) }]);
  });

  it('keeps a prompt whole: who asked to reach what, and how it ended', async () => {
    const prompt = { id: 'p1', vm: 'box', destination: dest, openedAt: '', deadline: '', waitingConnections: 1, guestProcess: null };
    service.emit({ type: 'prompt.opened', prompt });
    service.emit({ type: 'prompt.updated', prompt: { ...prompt, guestProcess: { pid: 7, command: '/usr/bin/curl -s https://api.example.test/', user: 'xray' } } });
    service.emit({ type: 'prompt.closed', id: 'p1', vm: 'box', action: 'deny', reason: 'abandoned' });
    const timeline = await service.call('vm.timeline', { vm: 'box' });
    expect(timeline.map((e) => (e.kind === 'prompt' ? [e.event, e.destination?.name, e.action, e.reason, e.program] : null))).toEqual([
      ['opened', 'api.example.test', null, null, null],
      ['closed', 'api.example.test', 'deny', 'abandoned', 'curl'],
    ]);
  });

  it('keeps the request a prompt asked about, and says it', async () => {
    const prompt = { id: 'p2', vm: 'box', destination: dest, request: { method: 'POST', path: '/gists' }, openedAt: '', deadline: '', waitingConnections: 1, guestProcess: null };
    service.emit({ type: 'prompt.opened', prompt });
    service.emit({ type: 'prompt.closed', id: 'p2', vm: 'box', action: 'allow', reason: 'answered' });
    const timeline = await service.call('vm.timeline', { vm: 'box' });
    expect(timeline.map(timelineText)).toEqual(['asked to send POST api.example.test/gists', 'prompt for POST api.example.test/gists: allow (answered)']);
  });

  it('records starts, crashes, decisions and hook runs, and leaves out what is not a moment', async () => {
    service.emit({ type: 'vm.state', vm: 'box', state: 'starting', previous: 'stopped' });
    service.emit({ type: 'vm.state', vm: 'box', state: 'booting', previous: 'starting' });
    service.emit({ type: 'firewall.decision', vm: 'box', destination: dest, action: 'allow', reason: 'rule *.example.test', rule: '*.example.test' });
    service.emit({ type: 'hook.finished', run: { vm: 'box', type: 'boot', script: 'verify', source: 'built-in', startedAt: '2026-11-30T10:00:00.000Z', finishedAt: '2026-11-30T10:00:02.500Z', exitCode: 0, error: null } });
    service.emit({ type: 'vm.state', vm: 'box', state: 'crashed', previous: 'ready', crash: { at: '', exitCode: null, signal: 'SIGKILL', consoleTail: [], stderrTail: [] } });
    service.emit({ type: 'log', level: 'info', source: 'x', message: 'not a moment' });
    const timeline = await service.call('vm.timeline', { vm: 'box' });
    expect(timeline.map((e) => e.kind)).toEqual(['lifecycle', 'network', 'hook', 'lifecycle']);
    expect(timeline[2]).toMatchObject({ script: 'verify', durationMs: 2500 });
    expect(timeline[3]).toMatchObject({ event: 'crashed', detail: 'killed by SIGKILL' });
  });

  it('reads back only entries since a moment, and at most the newest few', async () => {
    for (const name of ['a', 'b', 'c']) await service.call('snapshot.create', { vm: 'box', name });
    const all = await service.call('vm.timeline', { vm: 'box' });
    expect((await service.call('vm.timeline', { vm: 'box', limit: 2 })).map((e) => (e.kind === 'snapshot' ? e.name : ''))).toEqual(['b', 'c']);
    expect(await service.call('vm.timeline', { vm: 'box', since: all[2]!.at })).toEqual(all.filter((e) => e.at >= all[2]!.at));
  });

  it('says which VM is meant when it does not exist', async () => {
    await expect(service.call('vm.timeline', { vm: 'nope' })).rejects.toMatchObject({ code: 'not-found' });
  });
});

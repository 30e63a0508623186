// @vitest-environment jsdom
// The store: loading, applying events, and keeping unchanged VMs' objects so their rows stay put.
import { describe, expect, it } from 'vitest';
import { baseNameFromFile } from '../../src-main/shared/names';
import { CallError } from '../../src-main/shared/transport';
import { connectStore, createXrayStore } from '../../src-renderer/store/store';
import { FakeXrayClient, base, prompt, vm } from './fake-client';

async function loaded(client: FakeXrayClient) {
  const store = createXrayStore(client);
  connectStore(store, client);
  await store.getState().load();
  return store;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('store', () => {
  it('loads VMs in name order, bases and pending prompts', async () => {
    const client = new FakeXrayClient({ vms: [vm('web'), vm('api')], bases: [base('debian')], prompts: [prompt('p1')] });
    const s = (await loaded(client)).getState();
    expect(s.vmNames).toEqual(['api', 'web']);
    expect(s.bases).toEqual({ status: 'ready', value: [base('debian')] });
    expect(s.prompts.map((p) => p.id)).toEqual(['p1']);
  });

  it('applies a vm.state event to that VM only, keeping the other VMs and the name list identical', async () => {
    const store = await loaded(new FakeXrayClient({ vms: [vm('a'), vm('b'), vm('c')] }));
    const before = store.getState();
    store.getState().handleEvent({ type: 'vm.state', vm: 'b', state: 'starting', previous: 'stopped' });
    const after = store.getState();
    expect(after.vms.b!.state).toBe('starting');
    expect(after.vms.a).toBe(before.vms.a);
    expect(after.vms.c).toBe(before.vms.c);
    expect(after.vmNames).toBe(before.vmNames);
  });

  it('keeps unchanged VM objects when the list is fetched again', async () => {
    const list = [vm('a'), vm('b')];
    const client = new FakeXrayClient({ vms: list });
    const store = await loaded(client);
    const a = store.getState().vms.a;
    client.on('vm.list', () => [vm('a'), vm('b', { state: 'ready' })]);
    await store.getState().refreshVms();
    expect(store.getState().vms.a).toBe(a);
    expect(store.getState().vms.b!.state).toBe('ready');
  });

  it('removes a VM on vm.removed and leaves its detail view', async () => {
    const store = await loaded(new FakeXrayClient({ vms: [vm('a'), vm('b')] }));
    store.getState().show({ kind: 'vm', name: 'a' });
    store.getState().handleEvent({ type: 'vm.removed', vm: 'a' });
    expect(store.getState().vmNames).toEqual(['b']);
    expect(store.getState().view).toEqual({ kind: 'vms' });
  });

  it('queues prompts in arrival order, never twice, and drops them when closed', async () => {
    const store = await loaded(new FakeXrayClient());
    store.getState().handleEvent({ type: 'prompt.opened', prompt: prompt('1') });
    store.getState().handleEvent({ type: 'prompt.opened', prompt: prompt('2', { vm: 'other' }) });
    store.getState().handleEvent({ type: 'prompt.opened', prompt: prompt('1') });
    expect(store.getState().prompts.map((p) => p.id)).toEqual(['1', '2']);
    store.getState().handleEvent({ type: 'prompt.closed', id: '1', vm: 'dev', action: 'deny', reason: 'timeout' });
    expect(store.getState().prompts.map((p) => p.id)).toEqual(['2']);
  });

  it('keeps a prompt closed as abandoned for its notice, and only that reason', async () => {
    const store = await loaded(new FakeXrayClient());
    for (const id of ['1', '2', '3']) store.getState().handleEvent({ type: 'prompt.opened', prompt: prompt(id) });
    store.getState().handleEvent({ type: 'prompt.closed', id: '1', vm: 'dev', action: 'deny', reason: 'timeout' });
    store.getState().handleEvent({ type: 'prompt.closed', id: '2', vm: 'dev', action: 'deny', reason: 'abandoned' });
    store.getState().handleEvent({ type: 'prompt.closed', id: 'never-seen', vm: 'dev', action: 'deny', reason: 'abandoned' });
    expect(store.getState().prompts.map((p) => p.id)).toEqual(['3']);
    expect(store.getState().abandonedPrompts.map((p) => p.id)).toEqual(['2']);
    store.getState().clearAbandoned();
    expect(store.getState().abandonedPrompts).toEqual([]);
  });

  it('records firewall decisions per VM, bounded', async () => {
    const store = await loaded(new FakeXrayClient());
    const destination = { ip: '1.2.3.4', port: 80, name: null, nameSource: null, service: 'http' } as const;
    for (let i = 0; i < 250; i++) store.getState().handleEvent({ type: 'firewall.decision', vm: 'dev', destination, action: 'allow', reason: `rule ${i}`, rule: null });
    const log = store.getState().firewallLog.dev;
    expect(log?.status).toBe('ready');
    if (log?.status !== 'ready') return;
    expect(log.value).toHaveLength(200);
    expect(log.value.at(-1)!.reason).toBe('rule 249');
  });

  it('tracks snapshot progress and refreshes the list when a job ends', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    const store = await loaded(client);
    store.getState().handleEvent({ type: 'snapshot.progress', vm: 'dev', name: 's1', operation: 'create', status: 'running' });
    expect(store.getState().snapshotJobs.dev).toMatchObject({ name: 's1', status: 'running' });
    client.on('snapshot.list', () => [{ name: 's1', date: '2025-01-01T00:00:00Z', vmStateSize: 0, hasMemory: false, description: null }]);
    store.getState().handleEvent({ type: 'snapshot.progress', vm: 'dev', name: 's1', operation: 'create', status: 'done' });
    await tick();
    expect(store.getState().snapshots.dev).toMatchObject({ status: 'ready', value: [{ name: 's1' }] });
  });

  it('keeps an unsupported method as an error in place instead of failing the load', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    const store = await loaded(client);
    await store.getState().loadDetail('dev');
    expect(store.getState().hookScripts.dev).toEqual({ status: 'error', message: '"hooks.list" is not available in this version of Xray.' });
    expect(store.getState().info.dev?.status).toBe('ready');
  });

  it('imports a dropped file by uploading it and importing the stored path', async () => {
    const client = new FakeXrayClient();
    const uploaded: string[] = [];
    Object.assign(client, {
      upload: async (file: File, onProgress?: (d: number, t: number) => void) => {
        onProgress?.(file.size, file.size);
        uploaded.push(file.name);
        return `/tmp/up/${file.name}`;
      },
    });
    client.on('base.import', () => base('My-Image'));
    const store = await loaded(client);
    await store.getState().importFile(new File(['x'], 'My Image.qcow2'));
    expect(uploaded).toEqual(['My Image.qcow2']);
    expect(client.callsOf('base.import')).toEqual([{ path: '/tmp/up/My Image.qcow2', name: 'My-Image' }]);
    expect(store.getState().importJob?.phase).toBe('done');
  });

  it('makes one job of a snapshot operation from the service\'s progress events and its own, and refreshes the list once', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    client.on('snapshot.create', ({ vm: name, name: snapshot }) => {
      client.emit({ type: 'snapshot.progress', vm: name, name: snapshot, operation: 'create', status: 'running' });
      client.emit({ type: 'snapshot.progress', vm: name, name: snapshot, operation: 'create', status: 'done' });
      return { name: snapshot, date: '2025-01-01T00:00:00Z', vmStateSize: 0, hasMemory: false, description: null };
    });
    const store = await loaded(client);
    await store.getState().runSnapshot('dev', { operation: 'create', name: 's1' });
    await tick();
    expect(store.getState().snapshotJobs.dev).toEqual({ name: 's1', operation: 'create', status: 'done' });
    expect(client.callsOf('snapshot.list')).toHaveLength(1);
  });

  it('shows a snapshot operation refused before the service began it as failed', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    client.on('snapshot.revert', () => {
      throw new CallError('not-found', 'VM "dev" has no snapshot "gone".');
    });
    const store = await loaded(client);
    await store.getState().runSnapshot('dev', { operation: 'revert', name: 'gone' });
    expect(store.getState().snapshotJobs.dev).toEqual({ name: 'gone', operation: 'revert', status: 'failed', error: 'VM "dev" has no snapshot "gone".' });
  });

  it('keeps a cancelled import cancelled when its upload ends later', async () => {
    const client = new FakeXrayClient();
    let finish: (path: string) => void = () => undefined;
    let progress: (done: number, total: number) => void = () => undefined;
    Object.assign(client, {
      upload: (_file: File, onProgress: (d: number, t: number) => void) => {
        progress = onProgress;
        return new Promise<string>((resolve) => (finish = resolve));
      },
    });
    const store = await loaded(client);
    const importing = store.getState().importFile(new File(['xx'], 'big.qcow2'));
    store.getState().dismissImport();
    progress(1, 2);
    finish('/tmp/up/big.qcow2');
    await importing;
    expect(store.getState().importJob).toBeNull();
    expect(client.callsOf('base.import')).toEqual([]);
  });

  it('follows an import\'s progress only for the base it imports', async () => {
    const client = new FakeXrayClient();
    Object.assign(client, { pathForFile: (f: File) => `/Users/me/${f.name}` });
    client.on('base.import', () => new Promise(() => undefined));
    const store = await loaded(client);
    void store.getState().importFile(new File(['0123456789'], 'debian.qcow2'));
    store.getState().handleEvent({ type: 'base.progress', name: 'debian', done: 4, total: 10 });
    store.getState().handleEvent({ type: 'base.progress', name: 'ubuntu', done: 9, total: 20 });
    expect(store.getState().importJob).toMatchObject({ file: 'debian.qcow2', phase: 'importing', done: 4, total: 10 });
  });

  it('adds a timeline entry announced while the timeline is fetched once, whether or not the reply held it', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    const entry = (at: string) => ({ at, vm: 'dev', kind: 'lifecycle' as const, event: 'ready' as const, detail: null });
    let reply: (list: ReturnType<typeof entry>[]) => void = () => undefined;
    client.on('vm.timeline', () => new Promise((resolve) => (reply = resolve)));
    const store = await loaded(client);
    const loading = store.getState().loadTimeline('dev');
    store.getState().handleEvent({ type: 'timeline.entry', entry: entry('2025-01-01T00:00:01Z') });
    store.getState().handleEvent({ type: 'timeline.entry', entry: entry('2025-01-01T00:00:02Z') });
    reply([entry('2025-01-01T00:00:00Z'), entry('2025-01-01T00:00:01Z')]);
    await loading;
    const timeline = store.getState().timelines.dev;
    expect(timeline?.status === 'ready' ? timeline.value.map((e) => e.at) : timeline).toEqual(['2025-01-01T00:00:00Z', '2025-01-01T00:00:01Z', '2025-01-01T00:00:02Z']);
  });

  it('derives a valid base name from a file name', () => {
    expect(baseNameFromFile('debian-12.qcow2')).toBe('debian-12');
    expect(baseNameFromFile('.hidden image.img')).toBe('hidden-image');
    expect(baseNameFromFile('///')).toBe('base');
  });
});

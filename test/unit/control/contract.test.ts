// Results and events crossing the control socket fit the contract's schemas:
// a real service and supervisor (QEMU faked) answer the methods the UI builds
// on, and the client refuses what breaks the contract.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Method, Params, Results, XrayApi, XrayEvent } from '../../../src-main/shared/contract';
import { contractProblem } from '../../../src-main/shared/schemas';
import { ControlClient } from '../../../src-main/core/control/client';
import { ControlServer } from '../../../src-main/core/control/server';
import { refusal } from '../../helpers/refusal';
import { supervised, type Harness } from '../supervisor/harness';

describe('results of a real service', () => {
  let h: Harness;
  let server: ControlServer;
  let client: ControlClient;

  beforeAll(async () => {
    h = await supervised();
    server = new ControlServer(h.service, h.home.paths.controlSocket);
    await server.listen();
    client = await ControlClient.connect(h.home.paths.controlSocket);
    await h.service.call('vm.start', { name: 'web' });
    await h.service.call('snapshot.create', { vm: 'web', name: 'one', description: 'with memory' });
    await h.service.call('firewall.add', { vm: 'web', target: '*.example.com:443', action: 'allow', lifetime: 'forever' });
    void h.supervisor.firewalls.broker.request('web', { ip: '192.0.2.7', port: 443, name: 'unknown.test', nameSource: 'sni', service: 'https' });
    h.supervisor.liveFirewall('web')?.log.append({
      at: new Date().toISOString(),
      vm: 'web',
      kind: 'connection',
      destination: { ip: '192.0.2.8', port: 80, name: 'known.test', nameSource: 'dns', service: 'http' },
      action: 'allow',
      reason: 'rule',
      bytesUp: 10,
      bytesDown: 20,
      durationMs: 5,
    });
  });

  afterAll(async () => {
    client.close();
    await server.close();
    h.supervisor.firewalls.broker.cancelVm('web');
    await h.close();
  });

  it.each<[Method, Params<Method>]>([
    ['vm.list', {}],
    ['vm.info', { name: 'web' }],
    ['prompt.list', {}],
    ['firewall.rules', { vm: 'web' }],
    ['firewall.log', { vm: 'web' }],
    ['snapshot.list', { vm: 'web' }],
    ['base.list', {}],
  ])('%s fits its schema', async (method, params) => {
    const result = await client.call(method, params);
    expect(contractProblem({ method, result })).toBeNull();
  });

  it('has something in every list it checks', async () => {
    const lengths = await Promise.all([
      client.call('prompt.list', {}),
      client.call('firewall.log', { vm: 'web' }),
      client.call('snapshot.list', { vm: 'web' }),
    ]);
    expect(lengths.map((list) => list.length > 0)).toEqual([true, true, true]);
  });
});

/** BrokenApi answers vm.list with a VM that has no state, and emits what it is told. */
class BrokenApi implements XrayApi {
  readonly listeners = new Set<(event: XrayEvent) => void>();

  async call<M extends Method>(): Promise<Results[M]> {
    return [{ name: 'web' }] as unknown as Results[M];
  }

  subscribe(listener: (event: XrayEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

describe('a client outside production', () => {
  let h: Harness;
  let server: ControlServer;
  let api: BrokenApi;

  beforeAll(async () => {
    h = await supervised();
    api = new BrokenApi();
    server = new ControlServer(api, join(h.home.root, 'broken.sock'));
    await server.listen();
  });

  afterAll(async () => {
    await server.close();
    await h.close();
  });

  it('refuses a result that breaks the contract, naming what is wrong', async () => {
    const client = await ControlClient.connect(join(h.home.root, 'broken.sock'));
    try {
      const err = await refusal(client.call('vm.list', {}));
      expect([err.code, err.message]).toEqual(['internal', expect.stringMatching(/^The result of vm\.list does not match the contract \(0\.state: /)]);
    } finally {
      client.close();
    }
  });

  it('drops the connection on an event that breaks the contract', async () => {
    const client = await ControlClient.connect(join(h.home.root, 'broken.sock'));
    try {
      await client.subscribeAndWait(() => undefined);
      for (const listener of api.listeners) listener({ type: 'vm.state', vm: 'web', state: 'asleep' } as unknown as XrayEvent);
      expect((await refusal(client.call('base.list', {}))).message).toMatch(/^The connection to the Xray supervisor failed: An event does not match the contract/);
    } finally {
      client.close();
    }
  });
});

// Test helper: an XrayClient that answers from tables and records every call.
import type { Method, Params, Results, XrayEvent } from '../../src-main/shared/contract';
import type { BaseInfo, FirewallPrompt, SnapshotInfo, VmSummary } from '../../src-main/shared/models';
import { CallError } from '../../src-main/shared/transport';
import type { XrayClient } from '../../src-renderer/client/types';

type Handler<M extends Method> = (params: Params<M>) => Results[M] | Promise<Results[M]>;

export class FakeXrayClient implements XrayClient {
  readonly platform = 'browser' as const;
  readonly calls: { method: Method; params: unknown }[] = [];
  private readonly listeners = new Set<(e: XrayEvent) => void>();
  private readonly handlers = new Map<Method, Handler<Method>>();

  constructor(data: { vms?: VmSummary[]; bases?: BaseInfo[]; snapshots?: SnapshotInfo[]; prompts?: FirewallPrompt[] } = {}) {
    this.on('vm.list', () => data.vms ?? []);
    this.on('base.list', () => data.bases ?? []);
    this.on('prompt.list', () => data.prompts ?? []);
    this.on('snapshot.list', () => data.snapshots ?? []);
    this.on('vm.info', ({ name }) => {
      const summary = (data.vms ?? []).find((v) => v.name === name);
      if (!summary) throw new CallError('not-found', `There is no VM named "${name}".`);
      return { summary, config: {}, diskChain: [], snapshots: data.snapshots ?? [], autoSnapshots: { enabled: false, fromDefault: true, keep: 5 } };
    });
    this.on('vm.defaults', () => ({ memoryMb: 2048, cpus: 2, sshUser: 'ubuntu' }));
    this.on('firewall.log', () => []);
    this.on('firewall.rules', () => []);
    this.on('firewall.connections', () => []);
    this.on('port.listening', () => null);
    this.on('vm.console', () => ({ stream: null, end: 0, text: '' }));
    this.on('hooks.runs', () => []);
    this.on('vm.timeline', () => []);
    this.on('base.catalog', () => []);
    this.on('hooks.list', () => {
      throw new CallError('unsupported', '"hooks.list" is not available in this version of Xray.');
    });
  }

  /** on sets how a method answers. */
  on<M extends Method>(method: M, handler: Handler<M>): this {
    this.handlers.set(method, handler as unknown as Handler<Method>);
    return this;
  }

  async call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
    this.calls.push({ method, params });
    const handler = this.handlers.get(method);
    if (!handler) throw new CallError('unsupported', `"${method}" is not available in this version of Xray.`);
    return (await handler(params as Params<Method>)) as Results[M];
  }

  callsOf(method: Method): unknown[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.params);
  }

  subscribe(listener: (e: XrayEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: XrayEvent): void {
    for (const l of this.listeners) l(event);
  }
}

export function vm(name: string, over: Partial<VmSummary> = {}): VmSummary {
  return {
    name,
    state: 'stopped',
    base: 'debian',
    arch: 'x86_64',
    memoryMb: 2048,
    cpus: 2,
    sshPort: 2222,
    sshUser: 'ubuntu',
    ports: [],
    pid: null,
    accelerator: null,
    firewallActive: false,
    openConnections: 0,
    pendingPrompts: 0,
    crash: null,
    diagnosis: null,
    configError: null,
    ...over,
  };
}

export function base(name: string, over: Partial<BaseInfo> = {}): BaseInfo {
  return { name, arch: 'x86_64', virtualSize: 1024 ** 3, fileSize: 200 * 1024, linked: false, source: null, importedAt: '2025-01-01T10:00:00Z', cloudInit: false, usedBy: [], ...over };
}

export function prompt(id: string, over: Partial<FirewallPrompt> = {}): FirewallPrompt {
  return {
    id,
    vm: 'dev',
    destination: { ip: '93.184.216.34', port: 443, name: 'www.example.com', nameSource: 'socks', service: 'https' },
    openedAt: new Date().toISOString(),
    deadline: new Date(Date.now() + 30_000).toISOString(),
    waitingConnections: 1,
    guestProcess: null,
    ...over,
  };
}

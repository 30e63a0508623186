import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import type { Destination, FirewallRule } from '../../../src-main/shared/models';
import { formatRuleTarget, promptScopeChoices, promptTarget, registrableSuffix, scopeChoices, targetForScope } from '../../../src-main/shared/scopes';
import { heldConnectionBudget } from '../../../src-main/core/firewall/held-budget';
import { PromptBroker } from '../../../src-main/core/firewall/prompts';
import { parseRuleTarget } from '../../../src-main/core/firewall/rule-target';
import { RuleSet } from '../../../src-main/core/firewall/rules';
import { tempDir } from './helpers';

const dest = (name: string | null, ip: string | null = '192.0.2.1', port = 443): Destination => ({ ip, port, name, nameSource: name ? 'sni' : null, service: null });

function setup(options: { clients?: number; denyWhenNoClient?: boolean; timeoutSeconds?: number } = {}) {
  const events: XrayEvent[] = [];
  const rules = new RuleSet();
  const persisted: FirewallRule[] = [];
  const broker = new PromptBroker({
    emit: (e) => events.push(e),
    clientCount: () => options.clients ?? 1,
    rulesFor: () => rules,
    persist: async (_vm, rule) => void persisted.push(rule),
    timeoutSeconds: options.timeoutSeconds ?? 30,
    denyWhenNoClient: options.denyWhenNoClient ?? false,
  });
  return { events, rules, persisted, broker };
}

describe('PromptBroker', () => {
  it('denies with reason timeout when nobody answers in time', async () => {
    const { broker, events } = setup({ timeoutSeconds: 0.05 });
    expect(await broker.request('web', dest('slow.test'))).toEqual({ action: 'deny', reason: 'timeout' });
    expect(events.at(-1)).toMatchObject({ type: 'prompt.closed', reason: 'timeout', action: 'deny' });
    expect(broker.list()).toEqual([]);
  });

  it('denies at once with no client attached when configured, and waits otherwise', async () => {
    const strict = setup({ clients: 0, denyWhenNoClient: true });
    expect(await strict.broker.request('web', dest('a.test'))).toEqual({ action: 'deny', reason: 'no-client' });
    const patient = setup({ clients: 0 });
    void patient.broker.request('web', dest('a.test'));
    expect(patient.broker.list()).toHaveLength(1);
    patient.broker.cancelVm('web');
  });

  it('keeps destinations and VMs apart: answering one prompt leaves the others waiting', async () => {
    const { broker } = setup();
    const a = broker.request('web', dest('a.test'));
    const b = broker.request('web', dest('b.test'));
    const other = broker.request('db', dest('a.test'));
    expect(broker.list()).toHaveLength(3);
    const [first] = broker.list();
    await broker.answer({ id: first!.id, action: 'allow', scope: 'domain', lifetime: 'once' });
    expect((await a).action).toBe('allow');
    expect(broker.list().map((p) => [p.vm, p.destination.name])).toEqual([['web', 'b.test'], ['db', 'a.test']]);
    broker.cancelVm('web');
    broker.cancelVm('db');
    expect((await b).reason).toBe('vm-stopped');
    expect((await other).reason).toBe('vm-stopped');
  });

  it('a domain-suffix answer creates *.parent and settles other open prompts it covers', async () => {
    const { broker, rules, persisted } = setup();
    const api = broker.request('web', dest('api.example.org'));
    const www = broker.request('web', dest('www.example.org'));
    const unrelated = broker.request('web', dest('other.test'));
    const id = broker.list()[0]!.id;
    const rule = await broker.answer({ id, action: 'allow', scope: 'domain-suffix', lifetime: 'forever' });
    expect(formatRuleTarget(rule.target)).toBe('*.example.org');
    expect((await api).action).toBe('allow');
    expect((await www).action).toBe('allow');
    expect(broker.list().map((p) => p.destination.name)).toEqual(['other.test']);
    expect(persisted.map((r) => r.id)).toEqual(['*.example.org']);
    expect(rules.match(dest('new.example.org'))?.action).toBe('allow');
    broker.cancelVm('web');
    await unrelated;
  });

  it('duration answers expire and need a duration; once answers leave no rule', async () => {
    const { broker, rules } = setup();
    void broker.request('web', dest('d.test'));
    const id = broker.list()[0]!.id;
    await expect(broker.answer({ id, action: 'allow', scope: 'host-port', lifetime: 'duration' })).rejects.toThrow(/durationSeconds/);
    const rule = await broker.answer({ id, action: 'deny', scope: 'host-port', lifetime: 'duration', durationSeconds: 60 });
    expect(rule).toMatchObject({ id: 'd.test:443', action: 'deny', lifetime: { kind: 'duration' } });
    void broker.request('web', dest('e.test', '192.0.2.9'));
    await broker.answer({ id: broker.list()[0]!.id, action: 'allow', scope: 'domain', lifetime: 'once' });
    expect(rules.list().map((r) => r.id)).toEqual(['d.test:443']);
  });

  it('reports an unknown prompt id as not-found', async () => {
    const { broker } = setup();
    await expect(broker.answer({ id: 'nope', action: 'allow', scope: 'domain', lifetime: 'once' })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('attaches the guest process to an open prompt', async () => {
    const { broker, events } = setup();
    void broker.request('web', dest('p.test'));
    const id = broker.list()[0]!.id;
    broker.setGuestProcess(id, { pid: 42, command: 'curl p.test', user: 'dev' });
    expect(broker.list()[0]?.guestProcess).toEqual({ pid: 42, command: 'curl p.test', user: 'dev' });
    expect(events.at(-1)).toMatchObject({ type: 'prompt.updated', guestProcess: { pid: 42 } });
    broker.cancelVm('web');
  });
});

describe('PromptBroker for HTTP requests', () => {
  const get = { method: 'GET', path: '/repos/acme/widgets' };

  it('asks once for identical requests, apart from the connection and from other requests', async () => {
    const { broker, events } = setup();
    const first = broker.request('web', dest('api.test'), get);
    const second = broker.request('web', dest('api.test'), get);
    const post = broker.request('web', dest('api.test'), { method: 'POST', path: '/repos/acme/widgets' });
    const connection = broker.request('web', dest('api.test'));
    expect(broker.list().map((p) => [p.request ?? null, p.waitingConnections])).toEqual([
      [get, 2],
      [{ method: 'POST', path: '/repos/acme/widgets' }, 1],
      [null, 1],
    ]);
    expect(events.filter((e) => e.type === 'prompt.opened')).toHaveLength(3);
    await broker.answer({ id: broker.list()[0]!.id, action: 'allow', lifetime: 'once' });
    expect(await first).toMatchObject({ action: 'allow', reason: 'answered', rule: { id: 'api.test GET /repos/acme/widgets', source: 'session' } });
    expect((await second).action).toBe('allow');
    expect(broker.list()).toHaveLength(2);
    broker.cancelVm('web');
    expect((await post).reason).toBe('vm-stopped');
    expect((await connection).reason).toBe('vm-stopped');
  });

  it('writes an HTTP rule for the scope chosen, and settles the open requests it covers', async () => {
    const { broker, rules, persisted } = setup();
    const widgets = broker.request('web', dest('api.test'), get);
    const gadgets = broker.request('web', dest('api.test'), { method: 'GET', path: '/repos/acme/gadgets' });
    const elsewhere = broker.request('web', dest('api.test'), { method: 'GET', path: '/users/me' });
    const rule = await broker.answer({ id: broker.list()[0]!.id, action: 'deny', scope: 'request-prefix', lifetime: 'forever' });
    expect(rule.id).toBe('api.test GET /repos/acme/*');
    expect(await widgets).toMatchObject({ action: 'deny', reason: 'answered' });
    expect(await gadgets).toMatchObject({ action: 'deny', reason: 'answered', rule: { id: 'api.test GET /repos/acme/*' } });
    expect(broker.list().map((p) => p.request?.path)).toEqual(['/users/me']);
    expect(persisted.map((r) => r.id)).toEqual(['api.test GET /repos/acme/*']);
    expect(rules.httpRules(dest('api.test')).map((r) => r.id)).toEqual(['api.test GET /repos/acme/*']);
    broker.cancelVm('web');
    await elsewhere;
  });

  it('refuses a scope that does not fit the question, saying which do, and leaves the prompt open', async () => {
    const { broker } = setup();
    void broker.request('web', dest('api.test'), get);
    void broker.request('web', dest('b.test'));
    const [request, connection] = broker.list();
    await expect(broker.answer({ id: request!.id, action: 'allow', scope: 'host-port', lifetime: 'once' })).rejects.toThrow(
      `Prompt "${request!.id}" asks about an HTTP request, so its answer covers one of: request, request-prefix, request-path, request-host.`,
    );
    await expect(broker.answer({ id: connection!.id, action: 'allow', scope: 'request', lifetime: 'once' })).rejects.toMatchObject({ code: 'invalid-argument' });
    expect(broker.list()).toHaveLength(2);
    broker.cancelVm('web');
  });

  it('is held by the same settings as a connection: no client, default deny, timeout', async () => {
    expect(await setup({ clients: 0, denyWhenNoClient: true }).broker.request('web', dest('api.test'), get)).toEqual({ action: 'deny', reason: 'no-client' });
    expect(await setup({ timeoutSeconds: 0.05 }).broker.request('web', dest('api.test'), get)).toEqual({ action: 'deny', reason: 'timeout' });
    const strict = setup();
    strict.broker.configure({ defaultAction: 'deny' });
    expect(await strict.broker.request('web', dest('api.test'), get)).toEqual({ action: 'deny', reason: 'default-deny' });
  });
});

describe('PromptBroker limits on held connections', () => {
  function limited(limits: { perDestination?: number; perVm?: number; total?: number }) {
    const events: XrayEvent[] = [];
    const broker = new PromptBroker({
      emit: (e) => events.push(e),
      clientCount: () => 1,
      rulesFor: () => null,
      persist: async () => {},
      maxWaitingPerDestination: limits.perDestination,
      maxWaitingPerVm: limits.perVm,
      maxWaitingTotal: limits.total,
      updateDelayMs: 5,
    });
    return { broker, events };
  }

  it('denies a connection past the per-destination cap, and takes new ones once the prompt closes', async () => {
    const { broker } = limited({ perDestination: 3 });
    const held = [1, 2, 3].map(() => broker.request('web', dest('a.test')));
    expect(await broker.request('web', dest('a.test'))).toEqual({ action: 'deny', reason: 'too many connections waiting for this destination' });
    expect(broker.waiting('web')).toBe(3);
    broker.cancelVm('web');
    await Promise.all(held);
    expect(broker.waiting()).toBe(0);
    void broker.request('web', dest('a.test'));
    expect(broker.waiting('web')).toBe(1);
    broker.cancelVm('web');
  });

  it('denies past the per-VM cap without touching another VM', async () => {
    const { broker } = limited({ perVm: 2 });
    void broker.request('web', dest('a.test'));
    void broker.request('web', dest('b.test'));
    expect(await broker.request('web', dest('c.test'))).toMatchObject({ action: 'deny', reason: 'too many connections waiting for answers in this VM' });
    void broker.request('db', dest('c.test'));
    expect(broker.list('db')).toHaveLength(1);
    broker.cancelVm('web');
    broker.cancelVm('db');
  });

  it('denies past the cap for all VMs together', async () => {
    const { broker } = limited({ total: 2 });
    void broker.request('web', dest('a.test'));
    void broker.request('db', dest('a.test'));
    expect(await broker.request('cache', dest('a.test'))).toMatchObject({ action: 'deny', reason: 'too many connections waiting for answers' });
    broker.cancelVm('web');
    broker.cancelVm('db');
  });

  it('announces a burst of joining connections in one update with the final count', async () => {
    vi.useFakeTimers();
    try {
      const { broker, events } = limited({});
      for (let i = 0; i < 40; i++) void broker.request('web', dest('a.test'));
      await vi.advanceTimersByTimeAsync(4);
      expect(events.filter((e) => e.type === 'prompt.updated')).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      const updates = events.filter((e) => e.type === 'prompt.updated');
      expect(updates).toHaveLength(1);
      expect(updates[0]).toMatchObject({ prompt: { waitingConnections: 40 } });
      broker.cancelVm('web');
    } finally {
      vi.useRealTimers();
    }
  });

  it('reads the descriptor budget from the process limits', async () => {
    const { dir, cleanup } = await tempDir();
    const file = join(dir, 'limits');
    await writeFile(file, 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n');
    expect(heldConnectionBudget(file)).toBe(256);
    expect(heldConnectionBudget(join(dir, 'missing'))).toBe(2560);
    await cleanup();
  });
});

describe('targetForScope', () => {
  it.each([
    ['host-port', dest('api.example.com'), 'api.example.com:443'],
    ['host-port', dest('api.example.com', null), 'api.example.com:443'],
    ['host-port', dest(null), '192.0.2.1:443'],
    ['domain', dest('api.example.com'), 'api.example.com'],
    ['domain', dest(null), '192.0.2.1'],
    ['domain-suffix', dest('a.b.example.com'), '*.b.example.com'],
    ['domain-suffix', dest(null), '192.0.2.1'],
    ['any-port', dest('api.example.com'), '192.0.2.1'],
    ['any-port', dest('api.example.com', null), 'api.example.com'],
  ] as const)('%s of %o is %s', (scope, destination, expected) => {
    const target = targetForScope(destination, scope);
    expect(target && formatRuleTarget(target)).toBe(expected);
  });

  it('labels each choice with the rule it writes, without repeats', () => {
    expect(scopeChoices(dest('api.example.com'))).toEqual([
      { scope: 'host-port', label: 'api.example.com:443' },
      { scope: 'domain', label: 'api.example.com, any port' },
      { scope: 'domain-suffix', label: '*.example.com, any port' },
      { scope: 'any-port', label: '192.0.2.1, any port' },
    ]);
    expect(scopeChoices(dest(null))).toEqual([
      { scope: 'host-port', label: '192.0.2.1:443' },
      { scope: 'any-port', label: '192.0.2.1, any port' },
    ]);
  });

  const asked = (method: string, path: string, name: string | null = 'api.test') => ({ destination: dest(name), request: { method, path } });

  it.each([
    ['request', asked('GET', '/repos/acme/widgets'), 'api.test GET /repos/acme/widgets'],
    ['request-prefix', asked('GET', '/repos/acme/widgets'), 'api.test GET /repos/acme/*'],
    ['request-prefix', asked('POST', '/'), 'api.test POST /*'],
    ['request-prefix', asked('GET', '/repos/'), 'api.test GET /repos/*'],
    ['request-path', asked('DELETE', '/repos/acme/widgets'), 'api.test /repos/acme/widgets'],
    ['request-host', asked('DELETE', '/repos/acme/widgets'), 'api.test /*'],
    ['request', asked('GET', '/files/a*b'), 'api.test GET /files/a*'],
    ['request', asked('GET', '/q/"quoted"'), 'api.test GET /q/*'],
    ['request', asked('PURGE', '/cache'), 'api.test /cache'],
    ['host-port', asked('GET', '/'), null],
    ['request', asked('GET', '/', null), null],
  ] as const)('request scope %s of %o is %s', (scope, prompt, expected) => {
    const target = promptTarget(prompt, scope);
    expect(target && formatRuleTarget(target)).toBe(expected);
  });

  it('writes request rules that read back as the same HTTP rule', () => {
    for (const { label } of promptScopeChoices(asked('POST', '/repos/acme/issues'))) {
      expect(formatRuleTarget(parseRuleTarget(label))).toBe(label);
    }
  });

  it('labels a request\'s choices with their rules, without repeats', () => {
    expect(promptScopeChoices(asked('POST', '/gists'))).toEqual([
      { scope: 'request', label: 'api.test POST /gists' },
      { scope: 'request-prefix', label: 'api.test POST /*' },
      { scope: 'request-path', label: 'api.test /gists' },
      { scope: 'request-host', label: 'api.test /*' },
    ]);
    expect(promptScopeChoices(asked('GET', '/')).map((c) => c.label)).toEqual(['api.test GET /', 'api.test GET /*', 'api.test /', 'api.test /*']);
    expect(promptScopeChoices(asked('PURGE', '/x')).map((c) => c.label)).toEqual(['api.test /x', 'api.test /*']);
  });

  it.each([
    ['api.github.com', 'github.com'],
    ['github.com', 'github.com'],
    ['www.bbc.co.uk', 'bbc.co.uk'],
    ['bbc.co.uk', 'bbc.co.uk'],
    ['a.b.bbc.co.uk', 'b.bbc.co.uk'],
  ])('registrableSuffix(%s) = %s', (name, suffix) => {
    expect(registrableSuffix(name)).toBe(suffix);
  });
});

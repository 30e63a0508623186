// A running VM's open connections as Little Snitch's network monitor shows a
// Mac's: real SOCKS clients (curl through the VM's proxy.sock, as the guest's
// redirected connections arrive) hold downloads open, and the API, its
// events and the built CLI show them with growing bytes, the rule that
// allowed them, and then not at all once they close.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import type { OpenConnection } from '../../../src-main/shared/live';
import type { SshSession } from '../../../src-main/core/ssh';
import { hostSupervisor, type SupervisorHost } from '../../../src-main/core/supervisor/host';
import { XRAY_BIN, xray } from '../../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../../helpers/home';
import { waitFor } from '../../helpers/wait';

let home: TestHome;
let host: SupervisorHost;
let web: Server;
let webPort: number;
const streams = new Set<ServerResponse>();
const children: ChildProcess[] = [];

beforeEach(async () => {
  home = await makeTestHome('xray-conns-');
  await addFirmwareOnlyVm(home.paths, 'guarded');
  await writeFile(home.paths.configFile, 'stop_timeout = 1\n');
  // A download that never ends: 4 KiB every 100 ms, until the client goes.
  web = createServer((_req, res) => {
    streams.add(res);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const timer = setInterval(() => res.write(Buffer.alloc(4096, 120)), 100);
    res.on('close', () => {
      clearInterval(timer);
      streams.delete(res);
    });
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  webPort = (web.address() as AddressInfo).port;
  host = await hostSupervisor(home.paths, { login: () => new Promise<SshSession>(() => undefined) });
  await host.service.call('vm.start', { name: 'guarded' });
  await host.service.call('firewall.add', { vm: 'guarded', target: `host.xray.internal:${webPort}`, action: 'allow', lifetime: 'until-stop' });
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const res of streams) res.destroy();
  await host.close({ stopVms: true });
  web.close();
  await home.cleanup();
});

/** download starts curl through the VM's proxy socket on the endless download; kill it to close the connection. */
function download(): ChildProcess {
  const child = spawn('curl', ['-sS', '-o', '/dev/null', '--proxy', `socks5h://localhost${home.paths.vm('guarded').proxySocket}`, `http://host.xray.internal:${webPort}/`]);
  children.push(child);
  return child;
}

const open = () => host.service.call('firewall.connections', { vm: 'guarded' });

describe("a running VM's open connections", () => {
  it('show each download with its destination, the rule that allowed it and bytes that grow, and go when it closes', async () => {
    const first = download();
    const [a] = await waitFor('the first download', async () => ((await open()).some((c) => c.bytesDown > 0) ? open() : null));
    expect(a).toMatchObject({
      state: 'relaying',
      destination: { name: 'host.xray.internal', port: webPort },
      reason: `rule host.xray.internal:${webPort}`,
      rule: `host.xray.internal:${webPort}`,
    });
    const second = download();
    await waitFor('two downloads', async () => (await open()).filter((c) => c.bytesDown > 0).length === 2);
    expect(a!.bytesUp).toBeGreaterThan(50);
    const before = a!.bytesDown;
    await waitFor('more bytes', async () => (await open()).find((c) => c.id === a!.id)!.bytesDown > before + 8192);
    expect((await host.service.call('vm.list', {}))[0]?.openConnections).toBe(2);

    first.kill();
    await waitFor('the first download to go', async () => (await open()).length === 1);
    expect((await open())[0]?.id).not.toBe(a!.id);
    second.kill();
    await waitFor('the second download to go', async () => (await open()).length === 0);
  });

  it('are announced about once a second to whoever follows, and never without a follower', async () => {
    const events: Extract<XrayEvent, { type: 'firewall.connections' }>[] = [];
    host.service.subscribe((e) => void (e.type === 'firewall.connections' && events.push(e)));
    const child = download();
    await waitFor('a download', async () => (await open()).some((c) => c.bytesDown > 0));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(events).toEqual([]);

    const started = Date.now();
    await host.service.call('firewall.connections', { vm: 'guarded', follow: true });
    await waitFor('three announcements', () => events.length >= 3);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThan(1900);
    const bytes = events.map((e) => e.connections[0]?.bytesDown ?? 0);
    expect(bytes[2]).toBeGreaterThan(bytes[0]!);
    child.kill();
    await waitFor('the empty list', () => events.at(-1)?.connections.length === 0);
  });

  it('print through the built CLI: a table, JSON, and --watch --json lines until interrupted', async () => {
    const child = download();
    await waitFor('a download', async () => (await open()).some((c) => c.bytesDown > 0));

    const table = await xray(home.root, ['firewall', 'connections', 'guarded']);
    expect(table.code, table.stderr).toBe(0);
    const [header, row] = table.stdout.split('\n');
    expect(header).toMatch(/^DESTINATION\s+STATE\s+UP\s+DOWN\s+OPEN FOR\s+ALLOWED BY$/);
    expect(row).toMatch(new RegExp(`^host\\.xray\\.internal:${webPort}\\s+relaying\\s+\\d+ B\\s+[\\d.]+ KiB\\s+\\d+ s\\s+rule host\\.xray\\.internal:${webPort}$`));
    const listed = JSON.parse((await xray(home.root, ['firewall', 'connections', 'guarded', '--json'])).stdout) as OpenConnection[];
    expect(listed).toMatchObject([{ state: 'relaying', destination: { port: webPort } }]);

    const watch = spawn(process.execPath, [XRAY_BIN, 'firewall', 'connections', 'guarded', '--watch', '--json'], { env: { ...process.env, XRAY_HOME: home.root, NO_COLOR: '1' } });
    children.push(watch);
    const lines: OpenConnection[][] = [];
    let buffered = '';
    watch.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) lines.push(JSON.parse(line) as OpenConnection[]);
    });
    await waitFor('three updates', () => lines.length >= 3, 20_000);
    expect(lines[2]![0]!.bytesDown).toBeGreaterThan(lines[0]![0]!.bytesDown);
    child.kill();
    await waitFor('an update with nothing open', () => lines.at(-1)?.length === 0, 20_000);
    const exited = new Promise<number | null>((resolve) => watch.once('exit', (code) => resolve(code)));
    watch.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('are none for a stopped VM, and refused for one that does not exist', async () => {
    await host.service.call('vm.stop', { name: 'guarded', force: true });
    const none = await xray(home.root, ['firewall', 'connections', 'guarded']);
    expect([none.code, none.stdout]).toEqual([0, 'VM "guarded" has no open connections.\n']);
    const missing = await xray(home.root, ['firewall', 'connections', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^xray: VM "nope" does not exist/);
  });
});

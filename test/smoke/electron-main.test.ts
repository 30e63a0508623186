// Smoke test of the built Electron main process (dist/electron/main.js, made by
// `npm run build`). The Electron binary cannot run here, so `electron` is
// replaced by a recording FAKE (fake-electron.ts); everything behind it is
// real: the supervisor on a temporary XRAY_HOME and a firmware-only QEMU VM.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bridgeClient, type XrayBridge } from '../../src-main/shared/client';
import { requestSchemas, type Method, type Params, type XrayEvent } from '../../src-main/shared/contract';
import { createService } from '../../src-main/core/bootstrap';
import { qemuImg } from '../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';
import { type TestInternet, startTestInternet, testInternetSupport } from '../helpers/netlab';
import * as fake from './fake-electron';
import { waitFor } from '../helpers/wait';

vi.mock('electron', () => import('./fake-electron'));

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST = join(ROOT, 'dist');
const PAGE = 'xray://app/index.html';
const VM = 'smoke';
/** internet is the test internet (helpers/netlab.ts) an intercepted host of the VM lives on, where this machine can make one. */
const internet = testInternetSupport();
if (!internet.ok) console.warn(`smoke: the refused-secret notification is not tested: ${internet.why}`);

/** SAMPLE_PARAMS holds valid params for every method; a method added to the contract must be added here. */
const SAMPLE_PARAMS: { [M in Method]: Params<M> } = {
  'vm.list': {},
  'vm.info': { name: 'nope' },
  'vm.defaults': {},
  'vm.create': { name: 'nope', base: 'no-such-base' },
  'vm.remove': { name: 'nope' },
  'vm.update': { name: 'nope', cpus: 1 },
  'vm.start': { name: 'nope' },
  'vm.stop': { name: 'nope' },
  'vm.console': { name: 'nope' },
  'vm.consoleInput': { name: 'nope', data: 'x' },
  'vm.timeline': { vm: VM },
  'port.list': { vm: 'nope' },
  'port.add': { vm: 'nope', mapping: { host: 18080, guest: 80 } },
  'port.remove': { vm: 'nope', mapping: { host: 18080, guest: 80 } },
  'share.list': { vm: 'nope' },
  'share.add': { vm: 'nope', hostPath: '/nope' },
  'share.remove': { vm: 'nope', path: '/nope' },
  'port.listening': { vm: 'nope' },
  'base.list': {},
  'base.import': { path: '/nonexistent/image.qcow2' },
  'base.remove': { name: 'no-such-base' },
  'base.catalog': {},
  'base.pull': { source: 'no-such-image' },
  'base.cancel': { name: 'nothing' },
  'snapshot.list': { vm: 'nope' },
  'snapshot.create': { vm: 'nope', name: 's1' },
  'snapshot.revert': { vm: 'nope', name: 's1' },
  'snapshot.delete': { vm: 'nope', name: 's1' },
  'config.get': {},
  'config.set': { key: 'stop_timeout', value: '2' },
  'firewall.rules': { vm: 'nope' },
  'firewall.add': { vm: 'nope', target: 'example.com', action: 'allow' },
  'firewall.remove': { vm: 'nope', id: 'r1' },
  'firewall.clear': { vm: 'nope' },
  'firewall.log': { vm: 'nope' },
  'firewall.export': { vm: 'nope' },
  'firewall.learned': { vm: 'nope' },
  'firewall.import': { vm: 'nope', text: 'xray_policy = 1\n', dryRun: true },
  'firewall.connections': { vm: 'nope' },
  'prompt.list': {},
  'prompt.answer': { id: 'no-such-prompt', action: 'deny' },
  'hooks.list': { vm: 'nope' },
  'hooks.run': { vm: 'nope', type: 'boot' },
  'hooks.resetInitialBoot': { vm: 'nope' },
  'hooks.runs': { vm: VM },
  'secret.list': {},
  'secret.set': { name: 'nothing', value: 'x' },
  'secret.remove': { name: 'nothing' },
  'secret.bindings': { vm: VM },
  'secret.bind': { vm: VM, secret: 'nothing', hosts: ['api.example.com'], header: 'Authorization' },
  'secret.unbind': { vm: VM, secret: 'nothing' },
  'plugin.list': {},
  'plugin.run': { plugin: 'nope', command: 'nope' },
};

type Reply = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };

function invoke(payload: unknown, frameUrl = PAGE): Promise<Reply> {
  const handler = fake.ipcMain.handlers.get('xray:call');
  if (!handler) throw new Error('no handler for xray:call');
  return handler({ senderFrame: { url: frameUrl } }, payload) as Promise<Reply>;
}

/** curlStatus runs curl with `args` and gives the HTTP status it got. */
function curlStatus(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('curl', ['-sS', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code}', ...args]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', () => resolve(out));
  });
}

type MenuEntry = { label?: string; enabled?: boolean; click?: () => void; submenu?: MenuEntry[] };

function menuEntry(path: string[]): MenuEntry {
  let entries = (fake.Tray.all[0]?.menu?.template ?? []) as MenuEntry[];
  let found: MenuEntry | undefined;
  for (const label of path) {
    found = entries.find((e) => e.label === label);
    if (!found) throw new Error(`no tray menu entry "${label}" among ${entries.map((e) => e.label).join(', ')}`);
    entries = found.submenu ?? [];
  }
  return found as MenuEntry;
}

function trayLabels(): string[] {
  return ((fake.Tray.all[0]?.menu?.template ?? []) as MenuEntry[]).map((e) => e.label ?? '---');
}

async function vmState(): Promise<string> {
  const reply = await invoke({ method: 'vm.info', params: { name: VM } });
  if (!reply.ok) throw new Error(reply.error.message);
  return (reply.value as { summary: { state: string } }).summary.state;
}

describe('Electron main process (built, against a fake electron)', () => {
  let home: TestHome;
  let net: TestInternet | undefined;
  let placeholder = '';
  const previousHome = process.env.XRAY_HOME;
  const previousBackend = process.env.XRAY_SECRET_BACKEND;

  beforeAll(async () => {
    for (const file of ['electron/main.js', 'electron/preload.cjs']) {
      if (!existsSync(join(DIST, file))) throw new Error(`dist/${file} is missing; run "npm run build" first`);
    }
    home = await makeTestHome('xray-electron-smoke-');
    await addFirmwareOnlyVm(home.paths, VM);
    process.env.XRAY_SECRET_BACKEND = 'file';
    if (internet.ok) {
      net = await startTestInternet({ names: { 'bound.example.test': 'tls', 'other.example.test': 'tls' } });
      await writeFile(home.paths.configFile, `dns_servers = ["${net.dnsServer}"]\nupstream_ca_file = "${net.caCertPath}"\n`);
    }
    const service = await createService(home.paths);
    await service.call('config.set', { key: 'stop_timeout', value: '2' });
    await service.call('secret.set', { name: 'github', value: 'ghp_smokeTestValueNeverSent' });
    placeholder = (await service.call('secret.bind', { vm: VM, secret: 'github', hosts: ['bound.example.test'], header: 'Authorization' })).placeholder;
    // An HTTP rule makes other.example.test an intercepted host that the secret is not bound to.
    await service.call('firewall.add', { vm: VM, target: 'other.example.test /*', action: 'allow', lifetime: 'forever' });
    process.env.XRAY_HOME = home.root;
    await import(pathToFileURL(join(DIST, 'electron/main.js')).href);
    await waitFor('the tray menu to list the VM', () => trayLabels().some((l) => l.startsWith(`${VM} — `)));
  });

  afterAll(async () => {
    if (fake.app.quitCount === 0) {
      fake.dialog.answer = async () => 0;
      fake.app.quit();
      await waitFor('the app to quit', () => fake.app.quitCount > 0);
    }
    if (previousHome === undefined) delete process.env.XRAY_HOME;
    else process.env.XRAY_HOME = previousHome;
    if (previousBackend === undefined) delete process.env.XRAY_SECRET_BACKEND;
    else process.env.XRAY_SECRET_BACKEND = previousBackend;
    await net?.close();
    await home?.cleanup();
  });

  it('takes the single-instance lock before anything else, and hides the Dock icon on macOS', () => {
    expect(fake.app.calls[0]).toBe('requestSingleInstanceLock');
    expect(fake.app.calls).toContain('whenReady');
    if (process.platform === 'darwin') expect(fake.app.calls).toContain('dock.hide');
  });

  it('creates one tray whose icons are files of the build', () => {
    expect(fake.Tray.all).toHaveLength(1);
    const tray = fake.Tray.all[0]!;
    expect(tray.images.length).toBeGreaterThan(0);
    for (const image of tray.images) {
      expect(image.path.startsWith(join(DIST, 'assets') + '/'), image.path).toBe(true);
      expect(existsSync(image.path), image.path).toBe(true);
    }
    expect(trayLabels().filter((l) => l !== '---').slice(-3)).toEqual(['Open Xray', 'Settings…', 'Quit Xray']);
  });

  it('opens every window locked down, with the built preload and page', async () => {
    menuEntry(['Open Xray']).click!();
    menuEntry(['Settings…']).click!();
    const windows = fake.BrowserWindow.all;
    expect(windows.map((w) => w.loaded[0])).toEqual([PAGE, `${PAGE}#settings`]);
    for (const win of windows) {
      const prefs = win.options.webPreferences ?? {};
      expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
      expect(prefs.preload).toBe(join(DIST, 'electron/preload.cjs'));
      expect(existsSync(prefs.preload ?? '')).toBe(true);
      expect(win.isVisible()).toBe(true);
      const page = await fake.protocol.handlers.get('xray')!(new Request(win.loaded[0]!));
      expect(page.status, `${win.loaded[0]} is served from dist/renderer/index.html`).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await page.text()).toBe(readFileSync(join(DIST, 'renderer/index.html'), 'utf8'));
      // Navigation and new windows are refused for every web contents.
      const navigation = new fake.PreventableEvent();
      win.webContents.emit('will-navigate', navigation, 'https://example.com/');
      expect(navigation.defaultPrevented).toBe(true);
      expect(win.webContents.windowOpenHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    }
  });

  it('serves the renderer page from the build with the strict CSP, and nothing outside it', async () => {
    expect(fake.protocol.privileged).toEqual([{ scheme: 'xray', privileges: { standard: true, secure: true } }]);
    const serve = fake.protocol.handlers.get('xray')!;
    const script = await serve(new Request('xray://app/app.js'));
    if (existsSync(join(DIST, 'renderer/app.js'))) {
      expect(script.status).toBe(200);
      expect(script.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(script.headers.get('content-type')).toContain('text/javascript');
    }
    expect((await serve(new Request('xray://app/..%2f..%2fpackage.json'))).status).toBe(404);
    expect((await serve(new Request('xray://app/../electron/main.js'))).status).toBe(404);
    const blocked = await new Promise<{ cancel: boolean }>((done) => fake.session.defaultSession.beforeRequest!({ url: 'https://example.com/x.js' }, done));
    expect(blocked.cancel).toBe(true);
    const allowed = await new Promise<{ cancel: boolean }>((done) => fake.session.defaultSession.beforeRequest!({ url: `${PAGE}` }, done));
    expect(allowed.cancel).toBe(false);
  });

  it('routes every request method of the contract through the guarded IPC handler', async () => {
    expect([...fake.ipcMain.handlers.keys()]).toEqual(['xray:call']);
    expect(Object.keys(SAMPLE_PARAMS).sort()).toEqual(Object.keys(requestSchemas).sort());
    for (const method of Object.keys(requestSchemas) as Method[]) {
      const reply = await invoke({ method, params: SAMPLE_PARAMS[method] });
      // A refusal at the edge (sender, envelope, params) would say so; anything else came from the service.
      if (!reply.ok) expect(reply.error.message, method).not.toMatch(/^(Bad request for|Unknown request|Xray ignored)/);
    }
    expect(await invoke({ method: 'vm.list', params: {} }, 'https://example.com/')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await invoke({ method: 'vm.list', params: {} }, `file://${join(DIST, 'renderer/index.html')}`)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await invoke({ method: 'vm.start', params: { name: 7 } })).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringMatching(/^Bad request for vm\.start: name: /) } });
    expect(await invoke({ method: 'vm.list', params: {} })).toMatchObject({ ok: true });
  });

  it('exposes exactly one object, window.xray, from the sandboxed preload, wired to the IPC handler', async () => {
    const exposed = new Map<string, Record<string, unknown>>();
    const eventListeners: ((event: unknown, payload: unknown) => void)[] = [];
    const fakeRenderer = {
      contextBridge: { exposeInMainWorld: (key: string, api: Record<string, unknown>) => exposed.set(key, api) },
      ipcRenderer: {
        invoke: (channel: string, payload: unknown) => fake.ipcMain.handlers.get(channel)!({ senderFrame: { url: PAGE } }, payload),
        on: (channel: string, listener: (event: unknown, payload: unknown) => void) => {
          if (channel === 'xray:event') eventListeners.push(listener);
        },
      },
      webUtils: { getPathForFile: (file: { name: string }) => `/dropped/${file.name}` },
    };
    const sandboxRequire = (id: string) => {
      if (id !== 'electron') throw new Error(`a sandboxed preload cannot require ${id}`);
      return fakeRenderer;
    };
    const module = { exports: {} };
    runInNewContext(readFileSync(join(DIST, 'electron/preload.cjs'), 'utf8'), { require: sandboxRequire, module, exports: module.exports, process: { platform: 'darwin' } });
    expect([...exposed.keys()]).toEqual(['xray']);
    const xray = exposed.get('xray') as unknown as XrayBridge<{ name: string }>;
    expect(Object.keys(xray).sort()).toEqual(['call', 'pathForFile', 'platform', 'subscribe']);
    expect(xray.platform).toBe('darwin');
    expect(xray.pathForFile({ name: 'debian.qcow2' })).toBe('/dropped/debian.qcow2');
    expect(await xray.call('vm.list', {})).toEqual({ ok: true, value: expect.arrayContaining([expect.objectContaining({ name: VM })]) });
    // The renderer's client keeps a failure's code, which contextBridge would drop from a thrown Error.
    await expect(bridgeClient(xray).call('vm.info', { name: 'nope' })).rejects.toMatchObject({ code: 'not-found', message: expect.stringContaining('nope') });
    const seen: unknown[] = [];
    const unsubscribe = xray.subscribe((e) => seen.push(e));
    for (const listener of eventListeners) listener({}, { type: 'base.changed' });
    unsubscribe();
    for (const listener of eventListeners) listener({}, { type: 'base.changed' });
    expect(seen).toEqual([{ type: 'base.changed' }]);
  });

  it('starts a VM from the tray and shows it running', async () => {
    menuEntry([`${VM} — stopped`, 'Start']).click!();
    await waitFor('the VM to boot', async () => ['booting', 'ready'].includes(await vmState()));
    await waitFor('the tray to show it running', () => trayLabels().some((l) => /^smoke — (booting…|running)$/.test(l)));
    const icon = fake.Tray.all[0]!.images.at(-1)!;
    expect(icon.path).toMatch(/trayRunning(Template|Linux)\.png$/);
    menuEntry([trayLabels().find((l) => l.startsWith(`${VM} — `))!, 'Copy SSH Command']).click!();
    expect(fake.clipboard.text).toMatch(new RegExp(`^ssh -i ${home.paths.vm(VM).sshKey} -p \\d+ \\S+@127\\.0\\.0\\.1$`));
  });

  it.runIf(internet.ok)('notifies of a secret refused on its way out, once for a burst, and opens the window on a click', async () => {
    const vmCa = home.paths.vm(VM).egressCa.certificate;
    const main = fake.BrowserWindow.getAllWindows().find((w) => w.loaded[0] === PAGE)!;
    const sentBefore = main.webContents.sent.length;
    const shownBefore = fake.Notification.all.length;
    for (let i = 0; i < 2; i++) {
      const status = await curlStatus(['--proxy', `socks5h://localhost${home.paths.vm(VM).proxySocket}`, '--cacert', vmCa, '-H', `Authorization: Bearer ${placeholder}`, 'https://other.example.test/collect']);
      expect(status).toBe('403');
    }
    await waitFor('the notification', () => fake.Notification.all.length > shownBefore);
    const shown = fake.Notification.all.slice(shownBefore);
    expect(shown.map((n) => n.options)).toEqual([
      {
        title: 'Xray kept secret "github" from other.example.test',
        body: `VM "${VM}" tried to send secret "github" to other.example.test, which it is not bound to (GET /collect); the request was refused. Open Xray to allow it there or keep refusing.`,
      },
    ]);
    const reports = main.webContents.sent.slice(sentBefore).map((m) => m.payload as XrayEvent).filter((e) => e.type === 'egress.report');
    expect(reports.map((e) => e.type === 'egress.report' && e.report.kind)).toEqual(['secret-refused', 'secret-refused']);
    for (const win of fake.BrowserWindow.getAllWindows()) win.close();
    shown[0]!.emit('click');
    await waitFor('the main window to open', () => fake.BrowserWindow.getAllWindows().some((w) => w.loaded[0] === PAGE && w.isVisible()));
  });

  it('imports image files dropped on the tray icon', async () => {
    const image = join(home.root, 'dropped.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', image, '64M']);
    fake.Tray.all[0]!.emit('drop-files', new fake.PreventableEvent(), [image]);
    await waitFor('the dropped image to become a base', async () => {
      const reply = await invoke({ method: 'base.list', params: {} });
      return reply.ok && (reply.value as { name: string }[]).some((b) => b.name === 'dropped');
    });
  });

  it('asks before quitting with a running VM, and stops it only after "Stop & Quit"', async () => {
    const statesWhenAsked: string[] = [];
    fake.dialog.answer = async () => {
      statesWhenAsked.push(await vmState());
      return 2;
    };
    const boxes = fake.dialog.boxes.length;
    fake.app.quit();
    await waitFor('the quit question', () => fake.dialog.boxes.length > boxes);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.dialog.boxes.at(-1)!.options).toMatchObject({ message: 'Stop 1 running VM and quit?', buttons: ['Stop & Quit', 'Leave Running & Quit', 'Cancel'] });
    expect(fake.app.quitCount).toBe(0);
    expect(['booting', 'ready']).toContain(await vmState());

    fake.dialog.answer = async () => {
      statesWhenAsked.push(await vmState());
      return 0;
    };
    fake.app.quit();
    await waitFor('the app to quit', () => fake.app.quitCount > 0, 60_000);
    expect(statesWhenAsked.every((s) => s === 'booting' || s === 'ready')).toBe(true);
    const service = await createService(home.paths);
    expect((await service.call('vm.info', { name: VM })).summary.state).toBe('stopped');
    expect(existsSync(home.paths.vm(VM).pid)).toBe(false);
  });
});

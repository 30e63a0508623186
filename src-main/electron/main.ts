// Runs in: Electron main process. Wires the pure modules beside it to Electron;
// decisions (menus, window options, IPC checks, notifications, quitting) live there.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  Notification,
  protocol,
  screen,
  session,
  Tray,
  type IpcMainInvokeEvent,
  type MenuItemConstructorOptions,
  type WebContents,
} from 'electron';
import type { XrayEvent } from '../shared/contract';
import { type Reply, callReply } from '../shared/transport';
import type { VmSummary } from '../shared/models';
import { errorMessage } from '../shared/errors';
import { defaultHome, HomePaths } from '../core/paths';
import { openBackend, type Backend } from './backend';
import { CALL_CHANNEL, EVENT_CHANNEL } from './ipc-channels';
import { guardCall } from './ipc-guard';
import { notificationFor, RepeatGate } from './notifications';
import { quitChoice, quitDialog } from './quit';
import { CONTENT_SECURITY_POLICY, isRendererPage, RENDERER_SCHEME, rendererFilePath, rendererHeaders, rendererUrl } from './renderer-protocol';
import { buildTrayMenu, sshCommand, type MenuItemSpec, type TrayAction, type TrayVm } from './tray-menu';
import { isVmActive, trayIconFile, trayIconState, trayTooltip } from './tray-state';
import { promptWindowPosition, windowOptions, type WindowKind } from './window-options';

const here = dirname(fileURLToPath(import.meta.url));
const PRELOAD = join(here, 'preload.cjs');
const RENDERER_ROOT = join(here, '..', 'renderer');
const ASSETS = join(here, '..', 'assets');

/** REFRESH_DELAY_MS coalesces bursts of events (a start emits several) into one tray rebuild. */
const REFRESH_DELAY_MS = 150;

/** REFRESH_EVENTS are the events that change what the tray shows. */
const REFRESH_EVENTS: ReadonlySet<XrayEvent['type']> = new Set(['vm.state', 'vm.changed', 'vm.removed', 'snapshot.progress', 'prompt.opened', 'prompt.closed']);

/** XrayApp is the running app: its backend, tray, windows and quit state. */
class XrayApp {
  private tray: Tray | null = null;
  private readonly windows = new Map<WindowKind, BrowserWindow>();
  private vms: TrayVm[] = [];
  private readonly pendingPrompts = new Set<string>();
  private readonly repeats = new RepeatGate();
  private refreshTimer: NodeJS.Timeout | null = null;
  private quitState: 'running' | 'asking' | 'closing' | 'done' = 'running';

  constructor(
    private readonly paths: HomePaths,
    private readonly backend: Backend,
  ) {}

  async start(): Promise<void> {
    ipcMain.handle(CALL_CHANNEL, (event, payload: unknown) => this.handleCall(event, payload));
    this.backend.api.subscribe((event) => this.onEvent(event));
    this.tray = new Tray(this.trayIcon('idle'));
    this.tray.on('drop-files', (_event, files: string[]) => void this.importFiles(files));
    await this.refresh();
  }

  showWindow(kind: WindowKind): BrowserWindow {
    const existing = this.windows.get(kind);
    if (existing && !existing.isDestroyed()) {
      existing.show();
      existing.focus();
      return existing;
    }
    const win = new BrowserWindow(windowOptions(kind, PRELOAD));
    this.windows.set(kind, win);
    win.on('closed', () => {
      if (this.windows.get(kind) === win) this.windows.delete(kind);
    });
    if (kind === 'prompt') {
      const bounds = this.tray?.getBounds() ?? null;
      const display = bounds ? screen.getDisplayMatching(bounds) : screen.getPrimaryDisplay();
      const { x, y } = promptWindowPosition(bounds, display.workArea);
      win.setPosition(x, y);
    }
    win.once('ready-to-show', () => {
      if (process.platform === 'darwin') app.focus({ steal: true });
      win.show();
    });
    void win.loadURL(rendererUrl(kind));
    return win;
  }

  /** beforeQuit holds every quit until the user has answered about running VMs and the backend closed. */
  beforeQuit(event: { preventDefault(): void }): void {
    if (this.quitState === 'done') return;
    event.preventDefault();
    if (this.quitState === 'running') void this.confirmQuit();
  }

  private async confirmQuit(): Promise<void> {
    this.quitState = 'asking';
    let stopVms = false;
    const question = quitDialog(this.backend.attachedToDaemon ? [] : await this.runningVms());
    if (question) {
      if (process.platform === 'darwin') app.focus({ steal: true });
      const choice = quitChoice((await dialog.showMessageBox(question)).response);
      if (choice === 'cancel') {
        this.quitState = 'running';
        return;
      }
      stopVms = choice === 'stop-and-quit';
    }
    this.quitState = 'closing';
    try {
      await this.backend.close(stopVms);
    } catch (err) {
      dialog.showErrorBox('Xray', `Xray could not shut down cleanly: ${errorMessage(err)}`);
    }
    this.quitState = 'done';
    app.quit();
  }

  private async runningVms(): Promise<string[]> {
    try {
      return (await this.backend.api.call('vm.list', {})).filter(isVmActive).map((vm) => vm.name);
    } catch {
      return this.vms.map((vm) => vm.summary).filter(isVmActive).map((vm) => vm.name);
    }
  }

  private async handleCall(event: IpcMainInvokeEvent, payload: unknown): Promise<Reply<unknown>> {
    const guarded = guardCall(event.senderFrame?.url, payload);
    return guarded.ok ? callReply(this.backend.api, guarded.value) : guarded;
  }


  private onEvent(event: XrayEvent): void {
    for (const win of this.windows.values()) {
      if (!win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event);
    }
    const spec = notificationFor(event, { anyWindowVisible: BrowserWindow.getAllWindows().some((w) => w.isVisible()), anyWindowFocused: BrowserWindow.getFocusedWindow() !== null });
    if (spec && this.repeats.allows(spec, Date.now()) && Notification.isSupported()) {
      const notification = new Notification({ title: spec.title, body: spec.body });
      notification.on('click', () => this.showWindow(spec.kind === 'prompt' ? 'prompt' : 'main'));
      notification.show();
    }
    if (event.type === 'prompt.opened') {
      this.pendingPrompts.add(event.prompt.id);
      const main = this.windows.get('main');
      if (!main || main.isDestroyed() || !main.isFocused()) this.showWindow('prompt');
    }
    if (event.type === 'prompt.closed') {
      this.pendingPrompts.delete(event.id);
      if (this.pendingPrompts.size === 0) this.windows.get('prompt')?.close();
    }
    if (REFRESH_EVENTS.has(event.type)) this.scheduleRefresh();
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.refresh();
    }, REFRESH_DELAY_MS);
  }

  /** refresh re-reads VMs, their snapshots and the waiting prompts, then rebuilds the tray. */
  private async refresh(): Promise<void> {
    const api = this.backend.api;
    let summaries: VmSummary[];
    try {
      summaries = await api.call('vm.list', {});
    } catch {
      summaries = this.vms.map((vm) => vm.summary);
    }
    this.vms = await Promise.all(
      summaries.map(async (summary): Promise<TrayVm> => {
        if (summary.configError) return { summary, snapshots: [] };
        const snapshots = await api.call('snapshot.list', { vm: summary.name }).catch(() => []);
        return { summary, snapshots: snapshots.map((s) => s.name) };
      }),
    );
    try {
      const prompts = await api.call('prompt.list', {});
      this.pendingPrompts.clear();
      for (const prompt of prompts) this.pendingPrompts.add(prompt.id);
    } catch {
      // Without a firewall engine the prompts seen in events are all there is.
    }
    this.renderTray();
  }

  private renderTray(): void {
    if (!this.tray || this.tray.isDestroyed()) return;
    const summaries = this.vms.map((vm) => vm.summary);
    const pending = this.pendingPrompts.size;
    this.tray.setImage(this.trayIcon(trayIconState(summaries, pending)));
    this.tray.setToolTip(trayTooltip(summaries, pending));
    const spec = buildTrayMenu({ vms: this.vms, pendingPrompts: pending, attachedToDaemon: this.backend.attachedToDaemon });
    this.tray.setContextMenu(Menu.buildFromTemplate(spec.map((item) => this.toMenuItem(item))));
  }

  private trayIcon(state: Parameters<typeof trayIconFile>[0]): Electron.NativeImage {
    const image = nativeImage.createFromPath(join(ASSETS, trayIconFile(state, process.platform)));
    if (process.platform === 'darwin') image.setTemplateImage(true);
    return image;
  }

  private toMenuItem(spec: MenuItemSpec): MenuItemConstructorOptions {
    switch (spec.type) {
      case 'separator':
        return { type: 'separator' };
      case 'submenu':
        return { label: spec.label, enabled: spec.enabled, submenu: spec.submenu.map((item) => this.toMenuItem(item)) };
      case 'item': {
        const action = spec.action;
        return action ? { label: spec.label, enabled: spec.enabled, click: () => void this.perform(action) } : { label: spec.label, enabled: spec.enabled };
      }
    }
  }

  private async perform(action: TrayAction): Promise<void> {
    const api = this.backend.api;
    try {
      switch (action.kind) {
        case 'vm.start':
          await api.call('vm.start', { name: action.vm });
          break;
        case 'vm.stop':
          await api.call('vm.stop', { name: action.vm });
          break;
        case 'copy-ssh': {
          const vm = this.vms.find((v) => v.summary.name === action.vm);
          if (vm) clipboard.writeText(sshCommand(this.paths.vm(action.vm).sshKey, vm.summary));
          break;
        }
        case 'snapshot.create':
          await api.call('snapshot.create', { vm: action.vm, name: snapshotName(new Date()) });
          break;
        case 'snapshot.revert':
          if (await this.confirm(`Revert "${action.vm}" to snapshot "${action.snapshot}"?`, 'Changes made since the snapshot are lost.', 'Revert')) {
            await api.call('snapshot.revert', { vm: action.vm, name: action.snapshot });
          }
          break;
        case 'snapshot.delete':
          if (await this.confirm(`Delete snapshot "${action.snapshot}" of "${action.vm}"?`, 'This cannot be undone.', 'Delete')) {
            await api.call('snapshot.delete', { vm: action.vm, name: action.snapshot });
          }
          break;
        case 'open-main':
          this.showWindow('main');
          break;
        case 'open-prompts':
          this.showWindow('prompt');
          break;
        case 'open-settings':
          this.showWindow('settings');
          break;
        case 'quit':
          app.quit();
          break;
      }
    } catch (err) {
      dialog.showErrorBox('Xray', errorMessage(err));
    }
    this.scheduleRefresh();
  }

  private async confirm(message: string, detail: string, verb: string): Promise<boolean> {
    const { response } = await dialog.showMessageBox({ type: 'warning', message, detail, buttons: [verb, 'Cancel'], defaultId: 1, cancelId: 1, noLink: true });
    return response === 0;
  }

  /** importFiles imports images dropped on the tray icon, one after the other. */
  private async importFiles(files: readonly string[]): Promise<void> {
    for (const path of files) {
      try {
        const base = await this.backend.api.call('base.import', { path });
        if (Notification.isSupported()) new Notification({ title: `Imported base "${base.name}"`, body: path }).show();
      } catch (err) {
        dialog.showErrorBox('Xray', errorMessage(err));
      }
    }
  }
}

/** snapshotName names a snapshot taken from the tray by its time, e.g. snap-20250101-093000. */
function snapshotName(at: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `snap-${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`;
}

/** lockDown applies to every web contents the app ever creates: no navigation, no new windows, no webviews. */
function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** secureSession serves the renderer, refuses any other content, permission or header-less response. */
function secureSession(): void {
  const ses = session.defaultSession;
  protocol.handle(RENDERER_SCHEME, async (request) => {
    const file = rendererFilePath(RENDERER_ROOT, request.url);
    if (!file || request.method !== 'GET') return new globalThis.Response('Not found', { status: 404 });
    try {
      return new globalThis.Response(await readFile(file), { headers: rendererHeaders(file) });
    } catch {
      return new globalThis.Response('Not found', { status: 404 });
    }
  });
  ses.webRequest.onBeforeRequest((details, callback) => {
    callback({ cancel: !details.url.startsWith(`${RENDERER_SCHEME}://`) && !details.url.startsWith('devtools:') });
  });
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  ses.setPermissionRequestHandler((contents, permission, callback) => {
    callback(permission === 'clipboard-sanitized-write' && isRendererPage(contents.getURL()));
  });
  ses.setPermissionCheckHandler((_contents, permission, origin) => permission === 'clipboard-sanitized-write' && origin.startsWith(`${RENDERER_SCHEME}://`));
}

async function startApp(): Promise<void> {
  secureSession();
  if (process.platform === 'darwin') app.dock?.hide();
  const paths = new HomePaths(defaultHome());
  let backend: Backend;
  try {
    backend = await openBackend(paths);
  } catch (err) {
    dialog.showErrorBox('Xray could not start', errorMessage(err));
    app.exit(1);
    return;
  }
  const xray = new XrayApp(paths, backend);
  app.on('before-quit', (event) => xray.beforeQuit(event));
  app.on('second-instance', () => xray.showWindow('main'));
  app.on('activate', () => xray.showWindow('main'));
  await xray.start();
}

protocol.registerSchemesAsPrivileged([{ scheme: RENDERER_SCHEME, privileges: { standard: true, secure: true } }]);
app.on('web-contents-created', (_event, contents) => lockDown(contents));
// A menu-bar app keeps running with every window closed; Quit is in the tray menu.
app.on('window-all-closed', () => undefined);

if (app.requestSingleInstanceLock()) {
  app.whenReady().then(startApp).catch((err: unknown) => {
    dialog.showErrorBox('Xray could not start', errorMessage(err));
    app.exit(1);
  });
} else {
  app.quit();
}

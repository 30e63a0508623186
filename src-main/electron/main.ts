// Runs in: Electron main process. Wires the pure modules beside it to Electron;
// decisions (menus, window options, IPC checks, notifications, quitting) live there.
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
  type WebContents,
} from 'electron';
import type { XrayEvent } from '../shared/contract';
import { type Reply, callReply } from '../shared/transport';
import { errorMessage } from '../shared/errors';
import { defaultHome, HomePaths } from '../core/paths';
import { openBackend, type Backend } from './backend';
import { CALL_CHANNEL, EVENT_CHANNEL } from './ipc-channels';
import { guardCall } from './ipc-guard';
import { notificationFor, RepeatGate } from './notifications';
import { QuitGate } from './quit-gate';
import { menuTemplate } from './menu-template';
import { RENDERER_SCHEME, rendererUrl } from './renderer-protocol';
import { performTrayAction, type Confirmation } from './tray-actions';
import { activeVmNames, loadTrayVms, PendingPrompts, REFRESH_DELAY_MS, REFRESH_EVENTS } from './tray-data';
import { buildTrayMenu, type TrayAction, type TrayVm } from './tray-menu';
import { trayIconFile, trayIconState, trayTooltip } from './tray-state';
import { blocksRequest, grantsPermission, grantsPermissionCheck, rendererResponse, withPolicy } from './web-security';
import { promptWindowPosition, windowOptions, type WindowKind } from './window-options';

const here = dirname(fileURLToPath(import.meta.url));
const PRELOAD = join(here, 'preload.cjs');
const RENDERER_ROOT = join(here, '..', 'renderer');
const ASSETS = join(here, '..', 'assets');

/** XrayApp is the running app: its backend, tray, windows and quit state. */
class XrayApp {
  private tray: Tray | null = null;
  private readonly windows = new Map<WindowKind, BrowserWindow>();
  private vms: TrayVm[] = [];
  private readonly pendingPrompts = new PendingPrompts();
  private readonly repeats = new RepeatGate();
  private refreshTimer: NodeJS.Timeout | null = null;
  private readonly quitGate: QuitGate;

  constructor(
    private readonly paths: HomePaths,
    private readonly backend: Backend,
  ) {
    this.quitGate = new QuitGate({
      runningVms: async () => (backend.attachedToDaemon ? [] : activeVmNames(backend.api, this.vms)),
      ask: async (question) => {
        if (process.platform === 'darwin') app.focus({ steal: true });
        return (await dialog.showMessageBox(question)).response;
      },
      close: (stopVms) => backend.close(stopVms),
      showError: (message) => dialog.showErrorBox('Xray', message),
      quit: () => app.quit(),
    });
  }

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
    this.quitGate.beforeQuit(event);
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
    const main = this.windows.get('main');
    const move = this.pendingPrompts.apply(event, main !== undefined && !main.isDestroyed() && main.isFocused());
    if (move === 'show') this.showWindow('prompt');
    if (move === 'close') this.windows.get('prompt')?.close();
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
    this.vms = await loadTrayVms(this.backend.api, this.vms);
    await this.pendingPrompts.reload(this.backend.api);
    this.renderTray();
  }

  private renderTray(): void {
    if (!this.tray || this.tray.isDestroyed()) return;
    const summaries = this.vms.map((vm) => vm.summary);
    const pending = this.pendingPrompts.size;
    this.tray.setImage(this.trayIcon(trayIconState(summaries, pending)));
    this.tray.setToolTip(trayTooltip(summaries, pending));
    const spec = buildTrayMenu({ vms: this.vms, pendingPrompts: pending, attachedToDaemon: this.backend.attachedToDaemon });
    this.tray.setContextMenu(Menu.buildFromTemplate(menuTemplate(spec, (action) => void this.perform(action))));
  }

  private trayIcon(state: Parameters<typeof trayIconFile>[0]): Electron.NativeImage {
    const image = nativeImage.createFromPath(join(ASSETS, trayIconFile(state, process.platform)));
    if (process.platform === 'darwin') image.setTemplateImage(true);
    return image;
  }

  private async perform(action: TrayAction): Promise<void> {
    try {
      await performTrayAction(action, {
        api: this.backend.api,
        vms: this.vms,
        sshKeyOf: (vm) => this.paths.vm(vm).sshKey,
        confirm: (question) => this.confirm(question),
        copy: (text) => clipboard.writeText(text),
        showWindow: (kind) => void this.showWindow(kind),
        quit: () => app.quit(),
        now: () => new Date(),
      });
    } catch (err) {
      dialog.showErrorBox('Xray', errorMessage(err));
    }
    this.scheduleRefresh();
  }

  private async confirm({ message, detail, verb }: Confirmation): Promise<boolean> {
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
  protocol.handle(RENDERER_SCHEME, (request) => rendererResponse(RENDERER_ROOT, request));
  ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: blocksRequest(details.url) }));
  ses.webRequest.onHeadersReceived((details, callback) => callback({ responseHeaders: withPolicy(details.responseHeaders) }));
  ses.setPermissionRequestHandler((contents, permission, callback) => callback(grantsPermission(permission, contents.getURL())));
  ses.setPermissionCheckHandler((_contents, permission, origin) => grantsPermissionCheck(permission, origin));
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

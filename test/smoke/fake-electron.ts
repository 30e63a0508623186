// FAKE of the `electron` module, for the smoke test only: the real Electron
// binary cannot run here. It records what the main process asks of Electron
// (windows, tray, IPC handlers, dialogs) so the test can check the wiring, and
// it lets the test drive events (ready, quit) and answer dialogs.
import { EventEmitter } from 'node:events';
import type { BrowserWindowConstructorOptions, MenuItemConstructorOptions, MessageBoxOptions } from 'electron';

type IpcHandler = (event: { senderFrame: { url: string } }, payload: unknown) => Promise<unknown>;
type RequestListener = (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void;
type HeadersListener = (details: { responseHeaders?: Record<string, string[]> }, callback: (response: { responseHeaders: Record<string, string[]> }) => void) => void;
type PermissionHandler = (...args: unknown[]) => unknown;

/** PreventableEvent is what Electron passes to listeners that may cancel an action. */
export class PreventableEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

export class FakeWebContents extends EventEmitter {
  readonly sent: { channel: string; payload: unknown }[] = [];
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  url = '';

  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }

  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }

  getURL(): string {
    return this.url;
  }
}

export class BrowserWindow extends EventEmitter {
  static readonly all: BrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  readonly loaded: string[] = [];
  position: [number, number] | null = null;
  private visible = false;
  private destroyed = false;

  constructor(readonly options: BrowserWindowConstructorOptions) {
    super();
    BrowserWindow.all.push(this);
    app.emit('web-contents-created', new PreventableEvent(), this.webContents);
  }

  static getAllWindows(): BrowserWindow[] {
    return BrowserWindow.all.filter((w) => !w.destroyed);
  }

  static getFocusedWindow(): BrowserWindow | null {
    return null;
  }

  async loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    this.webContents.url = url;
    this.emit('ready-to-show');
  }

  setPosition(x: number, y: number): void {
    this.position = [x, y];
  }

  show(): void {
    this.visible = true;
  }

  focus(): void {}

  isVisible(): boolean {
    return this.visible;
  }

  isFocused(): boolean {
    return false;
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  close(): void {
    this.destroyed = true;
    this.visible = false;
    this.emit('closed');
  }
}

export class FakeNativeImage {
  template = false;
  constructor(readonly path: string) {}
  setTemplateImage(value: boolean): void {
    this.template = value;
  }
}

export const nativeImage = {
  createFromPath: (path: string) => new FakeNativeImage(path),
};

export interface FakeMenu {
  readonly template: readonly MenuItemConstructorOptions[];
}

export const Menu = {
  buildFromTemplate: (template: MenuItemConstructorOptions[]): FakeMenu => ({ template }),
};

export class Tray extends EventEmitter {
  static readonly all: Tray[] = [];
  readonly images: FakeNativeImage[] = [];
  menu: FakeMenu | null = null;
  tooltip = '';

  constructor(image: FakeNativeImage) {
    super();
    this.images.push(image);
    Tray.all.push(this);
  }

  setImage(image: FakeNativeImage): void {
    this.images.push(image);
  }

  setToolTip(text: string): void {
    this.tooltip = text;
  }

  setContextMenu(menu: FakeMenu): void {
    this.menu = menu;
  }

  getBounds() {
    return { x: 1200, y: 0, width: 22, height: 24 };
  }

  isDestroyed(): boolean {
    return false;
  }
}

class FakeApp extends EventEmitter {
  readonly calls: string[] = [];
  readonly dock = { hide: () => this.calls.push('dock.hide') };
  quitCount = 0;
  exitCode: number | null = null;

  requestSingleInstanceLock(): boolean {
    this.calls.push('requestSingleInstanceLock');
    return true;
  }

  whenReady(): Promise<void> {
    this.calls.push('whenReady');
    return Promise.resolve();
  }

  focus(): void {}

  /** quit emits before-quit like Electron; the app quits only when no listener prevents it. */
  quit(): void {
    const event = new PreventableEvent();
    this.emit('before-quit', event);
    if (!event.defaultPrevented) this.quitCount++;
  }

  exit(code = 0): void {
    this.exitCode = code;
  }
}

export const app = new FakeApp();

export const ipcMain = {
  handlers: new Map<string, IpcHandler>(),
  handle(channel: string, handler: IpcHandler): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, handler);
  },
  on(): void {
    throw new Error('the fake records ipcMain.handle only');
  },
};

export const protocol = {
  privileged: [] as { scheme: string; privileges: Record<string, boolean> }[],
  handlers: new Map<string, (request: Request) => Promise<Response>>(),
  registerSchemesAsPrivileged(schemes: { scheme: string; privileges: Record<string, boolean> }[]): void {
    this.privileged.push(...schemes);
  },
  handle(scheme: string, handler: (request: Request) => Promise<Response>): void {
    this.handlers.set(scheme, handler);
  },
};

export const session = {
  defaultSession: {
    beforeRequest: null as RequestListener | null,
    headersReceived: null as HeadersListener | null,
    permissionRequest: null as PermissionHandler | null,
    permissionCheck: null as PermissionHandler | null,
    webRequest: {
      onBeforeRequest: (listener: RequestListener) => {
        session.defaultSession.beforeRequest = listener;
      },
      onHeadersReceived: (listener: HeadersListener) => {
        session.defaultSession.headersReceived = listener;
      },
    },
    setPermissionRequestHandler(handler: PermissionHandler): void {
      this.permissionRequest = handler;
    },
    setPermissionCheckHandler(handler: PermissionHandler): void {
      this.permissionCheck = handler;
    },
  },
};

export interface MessageBoxRecord {
  readonly options: MessageBoxOptions;
}

export const dialog = {
  boxes: [] as MessageBoxRecord[],
  errors: [] as { title: string; content: string }[],
  /** answer decides each message box; the smoke test sets it. */
  answer: async (_options: MessageBoxOptions): Promise<number> => {
    throw new Error('the test did not expect a dialog');
  },
  async showMessageBox(options: MessageBoxOptions): Promise<{ response: number; checkboxChecked: boolean }> {
    this.boxes.push({ options });
    return { response: await this.answer(options), checkboxChecked: false };
  },
  showErrorBox(title: string, content: string): void {
    this.errors.push({ title, content });
  },
};

export const clipboard = {
  text: '',
  writeText(text: string): void {
    this.text = text;
  },
};

/** Notification records what was shown; a test clicks one by emitting 'click' on it (Notification.all). */
export class Notification extends EventEmitter {
  static readonly shown: { title: string; body: string }[] = [];
  static readonly all: Notification[] = [];
  static isSupported(): boolean {
    return true;
  }
  constructor(readonly options: { title: string; body: string }) {
    super();
  }
  show(): void {
    Notification.shown.push(this.options);
    Notification.all.push(this);
  }
}

export const screen = {
  getDisplayMatching: () => ({ workArea: { x: 0, y: 25, width: 1440, height: 875 } }),
  getPrimaryDisplay: () => ({ workArea: { x: 0, y: 25, width: 1440, height: 875 } }),
};

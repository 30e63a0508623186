// Runs in: plain Node (pure; the Electron main process creates windows from these specs).
import type { BrowserWindowConstructorOptions, Rectangle, WebPreferences } from 'electron';

/** WindowKind names the app's three windows; each is one route of the same renderer page. */
export type WindowKind = 'main' | 'prompt' | 'settings';

/**
 * lockedWebPreferences is the only webPreferences any Xray window gets: the
 * renderer has no Node, runs sandboxed and isolated from the preload, and can
 * reach the main process only through the one object the preload exposes.
 */
export function lockedWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    safeDialogs: true,
  };
}

/** PROMPT_WINDOW_SIZE fits one firewall prompt: destination, process and the answer buttons. */
export const PROMPT_WINDOW_SIZE = { width: 420, height: 300 } as const;

/** windowOptions gives each kind of window its size and behaviour, all with the locked preferences. */
export function windowOptions(kind: WindowKind, preload: string): BrowserWindowConstructorOptions {
  const common: BrowserWindowConstructorOptions = {
    show: false,
    title: 'Xray',
    backgroundColor: '#1e1e1e',
    webPreferences: lockedWebPreferences(preload),
  };
  switch (kind) {
    case 'main':
      return { ...common, width: 1100, height: 720, minWidth: 760, minHeight: 480 };
    case 'settings':
      return { ...common, title: 'Xray Settings', width: 640, height: 560, minWidth: 520, minHeight: 420, minimizable: false };
    case 'prompt':
      return {
        ...common,
        title: 'Xray: Connection Prompt',
        ...PROMPT_WINDOW_SIZE,
        resizable: false,
        minimizable: false,
        maximizable: false,
        fullscreenable: false,
        alwaysOnTop: true,
        skipTaskbar: true,
      };
  }
}

/** rendererRoute is the hash the renderer reads to know which view a window shows. */
export function rendererRoute(kind: WindowKind): string {
  return kind === 'main' ? '' : kind;
}

const PROMPT_MARGIN = 8;

/**
 * promptWindowPosition puts the prompt just under the tray icon (macOS menu
 * bar) or above it (a bottom panel), kept inside the work area; without tray
 * bounds (most Linux panels report none) it goes to the top-right corner.
 */
export function promptWindowPosition(
  trayBounds: Rectangle | null,
  workArea: Rectangle,
  size: { readonly width: number; readonly height: number } = PROMPT_WINDOW_SIZE,
): { x: number; y: number } {
  const clampX = (x: number) => Math.max(workArea.x + PROMPT_MARGIN, Math.min(x, workArea.x + workArea.width - size.width - PROMPT_MARGIN));
  const clampY = (y: number) => Math.max(workArea.y + PROMPT_MARGIN, Math.min(y, workArea.y + workArea.height - size.height - PROMPT_MARGIN));
  if (!trayBounds || (trayBounds.width === 0 && trayBounds.height === 0)) {
    return { x: clampX(workArea.x + workArea.width - size.width), y: clampY(workArea.y) };
  }
  const x = clampX(Math.round(trayBounds.x + trayBounds.width / 2 - size.width / 2));
  const trayBelowMiddle = trayBounds.y > workArea.y + workArea.height / 2;
  const y = trayBelowMiddle ? trayBounds.y - size.height - PROMPT_MARGIN : trayBounds.y + trayBounds.height + PROMPT_MARGIN;
  return { x, y: clampY(y) };
}

import { describe, expect, it } from 'vitest';
import { lockedWebPreferences, promptWindowPosition, PROMPT_WINDOW_SIZE, windowOptions, type WindowKind } from '../../../src-main/electron/window-options';

const KINDS: WindowKind[] = ['main', 'prompt', 'settings'];

describe('windowOptions', () => {
  it.each(KINDS)('locks the %s window down: isolated, sandboxed, no Node, our preload', (kind) => {
    const options = windowOptions(kind, '/app/dist/electron/preload.cjs');
    expect(options.webPreferences).toEqual(lockedWebPreferences('/app/dist/electron/preload.cjs'));
    expect(options.webPreferences).toMatchObject({
      preload: '/app/dist/electron/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(options.show).toBe(false);
  });

  it('makes the prompt a small window that stays on top', () => {
    expect(windowOptions('prompt', 'p')).toMatchObject({ ...PROMPT_WINDOW_SIZE, alwaysOnTop: true, resizable: false, skipTaskbar: true });
    expect(windowOptions('main', 'p').alwaysOnTop).toBeUndefined();
  });
});

describe('promptWindowPosition', () => {
  const workArea = { x: 0, y: 25, width: 1440, height: 875 };

  it.each([
    { name: 'under a macOS menu-bar icon', tray: { x: 1200, y: 0, width: 22, height: 24 }, expected: { x: 1001, y: 33 } },
    { name: 'kept on screen near the right edge', tray: { x: 1420, y: 0, width: 22, height: 24 }, expected: { x: 1012, y: 33 } },
    { name: 'above an icon in a bottom panel', tray: { x: 100, y: 876, width: 24, height: 24 }, expected: { x: 8, y: 568 } },
    { name: 'top right without tray bounds', tray: null, expected: { x: 1012, y: 33 } },
    { name: 'top right for empty tray bounds', tray: { x: 0, y: 0, width: 0, height: 0 }, expected: { x: 1012, y: 33 } },
  ])('places the prompt $name', ({ tray, expected }) => {
    expect(promptWindowPosition(tray, workArea)).toEqual(expected);
  });
});

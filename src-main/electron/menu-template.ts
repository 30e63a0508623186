// Runs in: plain Node (pure; only Electron's types are imported, the main process builds the Menu).
import type { MenuItemConstructorOptions } from 'electron';
import type { MenuItemSpec, TrayAction } from './tray-menu';

/** menuTemplate turns tray menu specs into Electron's menu template; clicking an item calls `perform` with its action. */
export function menuTemplate(specs: readonly MenuItemSpec[], perform: (action: TrayAction) => void): MenuItemConstructorOptions[] {
  return specs.map((spec): MenuItemConstructorOptions => {
    switch (spec.type) {
      case 'separator':
        return { type: 'separator' };
      case 'submenu':
        return { label: spec.label, enabled: spec.enabled, submenu: menuTemplate(spec.submenu, perform) };
      case 'item': {
        const action = spec.action;
        return action ? { label: spec.label, enabled: spec.enabled, click: () => perform(action) } : { label: spec.label, enabled: spec.enabled };
      }
    }
  });
}

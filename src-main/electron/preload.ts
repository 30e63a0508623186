// Runs in: Electron preload (sandboxed, CommonJS). Exposes the one object the
// renderer may use, `window.xray` (an XrayBridge), and nothing of Electron or
// Node itself.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { XrayBridge } from '../shared/client';
import type { Method, Params, Results, XrayEvent } from '../shared/contract';
import { type Reply, isReply } from '../shared/transport';
import { CALL_CHANNEL, EVENT_CHANNEL } from './ipc-channels';

const listeners = new Set<(event: XrayEvent) => void>();

ipcRenderer.on(EVENT_CHANNEL, (_event, payload: XrayEvent) => {
  for (const listener of [...listeners]) {
    try {
      listener(payload);
    } catch {
      // One broken view must not stop the others from hearing events.
    }
  }
});

/** call passes the main process's Reply on as it is; anything else becomes a failure the renderer can show. */
async function call<M extends Method>(method: M, params: Params<M>): Promise<Reply<Results[M]>> {
  const reply: unknown = await ipcRenderer.invoke(CALL_CHANNEL, { method, params });
  if (!isReply(reply)) return { ok: false, error: { code: 'internal', message: 'Xray sent a reply in an unknown shape.' } };
  return reply as Reply<Results[M]>;
}

const bridge: XrayBridge<File> = {
  platform: process.platform === 'darwin' ? 'darwin' : 'linux',
  call,
  subscribe(listener) {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  },
  pathForFile(file) {
    return webUtils.getPathForFile(file);
  },
};

contextBridge.exposeInMainWorld('xray', bridge);

// Runs in: Electron preload (sandboxed, CommonJS). Exposes the one object the
// renderer may use, `window.xray`, and nothing of Electron or Node itself.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { Method, Params, Response, Results, XrayEvent } from '../shared/contract';
import type { XrayClient } from '../../src-renderer/client/types';
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

function isResponse(value: unknown): value is Response<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const reply = value as { ok?: unknown; error?: { message?: unknown } };
  return reply.ok === true || (reply.ok === false && typeof reply.error?.message === 'string');
}

/**
 * call unwraps the main process's Response. A failure rejects with an Error
 * holding the service's one-sentence message: contextBridge copies only the
 * message of an Error into the page, so that is what the renderer can show.
 */
async function call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
  const reply: unknown = await ipcRenderer.invoke(CALL_CHANNEL, { method, params });
  if (!isResponse(reply)) throw new Error('Xray sent a reply in an unknown shape.');
  if (!reply.ok) throw new Error(reply.error.message);
  return reply.value as Results[M];
}

const client: XrayClient = {
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

contextBridge.exposeInMainWorld('xray', client);

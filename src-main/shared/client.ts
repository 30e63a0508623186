// Runs in: anywhere (pure). What the renderer talks to, and what the Electron
// preload hands it. `F` is the DOM's File, which this layer cannot name.
import type { Method, Params, Results, XrayApi, XrayEvent } from './contract';
import { type Reply, unwrapReply } from './transport';

export type ClientPlatform = 'darwin' | 'linux' | 'browser';

/**
 * XrayBridge is what the Electron preload exposes as `window.xray`. Calls
 * answer with a Reply rather than rejecting, because contextBridge keeps
 * nothing of an Error but its message, and the renderer needs the code too.
 */
export interface XrayBridge<F> {
  readonly platform: 'darwin' | 'linux';
  call<M extends Method>(method: M, params: Params<M>): Promise<Reply<Results[M]>>;
  subscribe(listener: (event: XrayEvent) => void): () => void;
  /** pathForFile gives a dropped file's path on disk. */
  pathForFile(file: F): string;
}

/** XrayClient is the renderer's whole view of Xray: the API, where it runs, and how dropped files reach it. */
export interface XrayClient<F> extends XrayApi {
  readonly platform: ClientPlatform;
  /** pathForFile gives a dropped file's path on disk (Electron only; browser mode uploads instead). */
  pathForFile?(file: F): string;
  /** upload stores a dropped file on the server and returns its path there (browser mode only). */
  upload?(file: F, onProgress?: (done: number, total: number) => void): Promise<string>;
}

/** bridgeClient makes the preload's bridge a client whose failures are CallErrors with their codes. */
export function bridgeClient<F>(bridge: XrayBridge<F>): XrayClient<F> {
  return {
    platform: bridge.platform,
    call: async (method, params) => unwrapReply(await bridge.call(method, params)),
    subscribe: (listener) => bridge.subscribe(listener),
    pathForFile: (file) => bridge.pathForFile(file),
  };
}

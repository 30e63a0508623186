// Runs in: renderer (browser or Electron, no Node APIs).
// The one object the renderer talks to. The Electron preload exposes exactly
// this shape on `window.xray`; browser mode builds it over HTTP (http-client.ts).
import type { Method, Params, Results, XrayEvent } from '../../src-main/shared/contract';

export type { Method, Params, Results, XrayEvent };

export type ClientPlatform = 'darwin' | 'linux' | 'browser';

/** XrayClient is the renderer's whole view of Xray: calls, events, and where it runs. */
export interface XrayClient {
  call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]>;
  subscribe(listener: (e: XrayEvent) => void): () => void;
  readonly platform: ClientPlatform;
  /** pathForFile gives a dropped file's path on disk (Electron only; browser mode uploads instead). */
  pathForFile?(file: File): string;
  /** upload stores a dropped file on the server and returns its path there (browser mode only). */
  upload?(file: File, onProgress?: (done: number, total: number) => void): Promise<string>;
}

/** ClientError is a failed call as the renderer sees it: a code and one readable sentence. */
export class ClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

declare global {
  interface Window {
    xray?: XrayClient;
  }
}

// Runs in: renderer (browser or Electron, no Node APIs).
// The renderer's client types: the shared layer's XrayClient for the DOM's
// File. The Electron preload exposes an XrayBridge on `window.xray`
// (bridgeClient makes it a client); browser mode builds one over HTTP
// (http-client.ts).
import type { XrayBridge, XrayClient as SharedXrayClient } from '../../src-main/shared/client';

export type XrayClient = SharedXrayClient<File>;

declare global {
  interface Window {
    xray?: XrayBridge<File>;
  }
}

// Runs in: plain Node (used by the Electron main process; no Electron import).
import type { XrayApi } from '../shared/contract';
import { ControlClient } from '../core/control/client';
import { isXrayError } from '../shared/errors';
import type { HomePaths } from '../core/paths';
import { hostSupervisor } from '../core/supervisor/host';

/** Backend is where the app's API calls go: its own supervisor, or a running `xray daemon`. */
export interface Backend {
  readonly api: XrayApi;
  /** attachedToDaemon is true when VMs belong to a separate daemon, so quitting the app leaves them alone. */
  readonly attachedToDaemon: boolean;
  /** close ends the app's part; `stopVms` also stops the VMs this app supervises. */
  close(stopVms: boolean): Promise<void>;
}

export interface BackendFactories {
  // For testing: replace how the supervisor is hosted or the daemon reached.
  readonly host?: typeof hostSupervisor;
  readonly connect?: (socketPath: string) => Promise<ControlClient>;
}

/**
 * openBackend hosts the supervisor of XRAY_HOME in this process; when another
 * process (`xray daemon`) already supervises it, the app becomes its client.
 */
export async function openBackend(paths: HomePaths, factories: BackendFactories = {}): Promise<Backend> {
  const host = factories.host ?? hostSupervisor;
  const connect = factories.connect ?? ((socket: string) => ControlClient.connect(socket));
  try {
    const hosted = await host(paths);
    return { api: hosted.service, attachedToDaemon: false, close: (stopVms) => hosted.close({ stopVms }) };
  } catch (err) {
    if (!isXrayError(err) || err.code !== 'busy') throw err;
  }
  const client = await connect(paths.controlSocket);
  return {
    api: client,
    attachedToDaemon: true,
    close: async () => {
      client.close();
    },
  };
}

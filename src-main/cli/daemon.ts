// Runs in: plain Node (CLI).
import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { ControlClient } from '../core/control/client';
import { isSocketAlive } from '../core/control/server';
import { XrayError } from '../shared/errors';
import type { HomePaths } from '../core/paths';

const DAEMON_START_TIMEOUT_MS = 15_000;

/**
 * connectOrSpawnDaemon returns a client of the running supervisor, starting a
 * background `xray daemon` first when none is running. The daemon's output
 * goes to XRAY_HOME/daemon.log.
 */
export async function connectOrSpawnDaemon(paths: HomePaths, cliEntry: string): Promise<ControlClient> {
  if (await isSocketAlive(paths.controlSocket)) return ControlClient.connect(paths.controlSocket);
  await mkdir(paths.root, { recursive: true, mode: 0o700 });
  const log = await open(paths.daemonLog, 'a', 0o600);
  try {
    const child = spawn(process.execPath, [cliEntry, 'daemon'], {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      env: { ...process.env, XRAY_HOME: paths.root },
    });
    child.unref();
  } finally {
    await log.close();
  }
  const deadline = Date.now() + DAEMON_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await isSocketAlive(paths.controlSocket, 500)) return ControlClient.connect(paths.controlSocket);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new XrayError('timeout', `The Xray daemon did not start within ${DAEMON_START_TIMEOUT_MS / 1000} s; see ${paths.daemonLog}.`);
}

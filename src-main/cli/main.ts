// Runs in: plain Node (CLI entry, bundled to dist/cli/xray.cjs, which bin/xray
// runs). Builds the real context and runs argv. The API (the core, the control
// client, the supervisor) is imported only when a command connects, so
// `xray --help` and commands that never connect do not set it up.
import './jitless';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { XrayApi } from '../shared/contract';
import { defaultHome, HomePaths } from '../core/paths';
import type { CliContext, Connection } from './context';
import { Output } from './output';
import { run } from './program';
import { openInBrowser, runSystemSsh } from './system';

const paths = new HomePaths(defaultHome());
/** self is the bundle, which `xray start` runs as the background daemon. */
const self = fileURLToPath(import.meta.url);

// A reader that stops early (`xray firewall list web | head`) closes stdout;
// that ends the command, quietly and successfully, as it does for cat or ls.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

function connection(api: XrayApi, local: boolean, close: () => void): Connection {
  return { local, close, call: (method, params) => api.call(method, params), subscribe: (listener) => api.subscribe(listener) };
}

/**
 * connect reaches the supervisor when one answers on the control socket (or,
 * for `supervisor`, after starting one); otherwise it serves the file-only API
 * in this process. No socket file means no supervisor, without a connect.
 */
async function connect(to: 'files' | 'supervisor'): Promise<Connection> {
  if (to === 'supervisor') {
    const { connectOrSpawnDaemon } = await import('./daemon');
    const client = await connectOrSpawnDaemon(paths, self);
    return connection(client, false, () => client.close());
  }
  if (existsSync(paths.controlSocket)) {
    const [{ isSocketAlive }, { ControlClient }] = await Promise.all([import('../core/control/server'), import('../core/control/client')]);
    if (await isSocketAlive(paths.controlSocket)) {
      const client = await ControlClient.connect(paths.controlSocket);
      return connection(client, false, () => client.close());
    }
  }
  const { createService } = await import('../core/bootstrap');
  return connection(await createService(paths), true, () => undefined);
}

const ctx: CliContext = {
  paths,
  out: new Output(process.stdout, process.stderr),
  term: {
    // Only commands that ask read stdin; setting it up costs a TTY or pipe stream every other command would not use.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
  },
  connect,
  hostHere: async () => (await import('../core/supervisor/host')).hostSupervisor(paths),
  onInterrupt: (handler) => {
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  },
  runSsh: runSystemSsh,
  openInBrowser,
  rendererDir: fileURLToPath(new URL('../renderer', import.meta.url)),
};

void run(ctx, process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});

// Runs in: plain Node (CLI entry, bundled to dist/cli/xray.js).
import { fileURLToPath } from 'node:url';
import { createService } from '../core/bootstrap';
import { ControlClient } from '../core/control/client';
import { isSocketAlive } from '../core/control/server';
import { defaultHome, HomePaths } from '../core/paths';
import { hostSupervisor } from '../core/supervisor/host';
import { connectOrSpawnDaemon } from './daemon';
import { Output } from './output';
import { run } from './program';

const paths = new HomePaths(defaultHome());
const out = new Output(process.stdout, process.stderr);
const self = fileURLToPath(import.meta.url);

const code = await run(
  {
    paths,
    out,
    term: { stdin: process.stdin, stdout: process.stdout },
    api: async () => {
      if (await isSocketAlive(paths.controlSocket)) return ControlClient.connect(paths.controlSocket);
      return createService(paths);
    },
    supervisor: () => connectOrSpawnDaemon(paths, self),
    hostHere: () => hostSupervisor(paths),
    onInterrupt: (handler) => {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  },
  process.argv.slice(2),
);
process.exitCode = code;

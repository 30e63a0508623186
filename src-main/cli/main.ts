// Runs in: plain Node (CLI entry, bundled to dist/cli/xray.js).
import { createService } from '../core/bootstrap';
import { ControlClient } from '../core/control/client';
import { isSocketAlive } from '../core/control/server';
import { defaultHome, HomePaths } from '../core/paths';
import { Output } from './output';
import { run } from './program';

const paths = new HomePaths(defaultHome());
const out = new Output(process.stdout, process.stderr);

const code = await run(
  {
    paths,
    out,
    term: { stdin: process.stdin, stdout: process.stdout },
    api: async () => {
      if (await isSocketAlive(paths.controlSocket)) return ControlClient.connect(paths.controlSocket);
      return createService(paths);
    },
  },
  process.argv.slice(2),
);
process.exitCode = code;

// Runs in: plain Node (CLI). What every command is handed: the home, where
// output goes, the terminal, and the one way to the API. A leaf: commands
// import it, it imports no command and nothing heavy (types only from core).
import type { XrayApi } from '../shared/contract';
import { isActive } from '../shared/vm';
import type { HomePaths } from '../core/paths';
import type { SupervisorHost } from '../core/supervisor/host';
import type { Terminal } from './interact';
import type { Output } from './output';

/** Connection is an open way to the API; close lets go of it. */
export interface Connection extends XrayApi {
  /** local is true when this process serves the API from the files, because no supervisor answered. */
  readonly local: boolean;
  close(): void;
}

/**
 * Reach says what a command needs from the API:
 * - `files`: work on files, done by the running supervisor when one answers, else in this process;
 * - `supervisor`: the engine (QEMU, prompts, events); a background daemon is started when none runs;
 * - `{ vm }`: work on one VM that needs the engine only while the VM runs, so a
 *   running VM with no supervisor gets one started to adopt it, and a stopped one does not.
 */
export type Reach = 'files' | 'supervisor' | { readonly vm: string };

/** CliContext is what a command needs; main.ts builds the real one, tests build their own. */
export interface CliContext {
  readonly paths: HomePaths;
  readonly out: Output;
  readonly term: Terminal;
  /** connect opens the API; commands go through withConnection, which also closes it. */
  readonly connect: (to: 'files' | 'supervisor') => Promise<Connection>;
  /** hostHere makes this process the supervisor (`xray daemon`, `xray start --foreground`). */
  readonly hostHere: () => Promise<SupervisorHost>;
  /** onInterrupt runs handler on Ctrl-C or SIGTERM until the returned function is called. */
  readonly onInterrupt: (handler: () => void) => () => void;
  /** runSsh runs the system ssh with args on this terminal and resolves with its exit code. */
  readonly runSsh: (args: readonly string[]) => Promise<number>;
  /** openInBrowser hands a file or URL to the desktop's opener. */
  readonly openInBrowser: (target: string) => void;
  /** rendererDir holds the built UI that `xray ui --browser` serves. */
  readonly rendererDir: string;
}

/**
 * ExitCode ends a command with a given exit status and no message of its own:
 * the status ssh exited with, or 1 after hooks reported their failures.
 */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit status ${code}`);
    this.name = 'ExitCode';
  }
}

/** openConnection reaches the API as `reach` asks; the caller closes it. */
async function openConnection(ctx: CliContext, reach: Reach): Promise<Connection> {
  if (reach === 'files' || reach === 'supervisor') return ctx.connect(reach);
  const api = await ctx.connect('files');
  if (!api.local) return api;
  let running: boolean;
  try {
    running = (await api.call('vm.list', {})).some((v) => v.name === reach.vm && isActive(v.state));
  } catch (err) {
    api.close();
    throw err;
  }
  if (!running) return api;
  api.close();
  return ctx.connect('supervisor');
}

/** withConnection opens the API a command needs, runs task with it, and closes it however task ends. */
export async function withConnection<T>(ctx: CliContext, reach: Reach, task: (api: XrayApi) => Promise<T>): Promise<T> {
  const api = await openConnection(ctx, reach);
  try {
    return await task(api);
  } finally {
    api.close();
  }
}

/** untilInterrupted resolves at the first Ctrl-C or SIGTERM, for commands that run until stopped. */
export function untilInterrupted(ctx: CliContext): Promise<void> {
  return new Promise((resolve) => {
    const release = ctx.onInterrupt(() => {
      release();
      resolve();
    });
  });
}

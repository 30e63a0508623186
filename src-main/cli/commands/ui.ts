// Runs in: plain Node (CLI). `xray ui --browser`: the real UI in a browser,
// served on 127.0.0.1 over the running supervisor.
import type { Command } from 'commander';
import { XrayError } from '../../shared/errors';
import { untilInterrupted, withConnection, type CliContext } from '../context';

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new XrayError('invalid-argument', `--port must be a port number from 1 to 65535, not "${value}".`);
  return n;
}

export interface UiOptions {
  readonly browser?: boolean;
  readonly port?: number;
  readonly open: boolean;
}

/** runUi serves the UI to a browser until interrupted; the desktop window belongs to the app. */
export async function runUi(ctx: CliContext, opts: UiOptions): Promise<void> {
  if (!opts.browser) {
    throw new XrayError('unsupported', 'The desktop window opens from the Xray app; use "xray ui --browser" to open the UI in a web browser.');
  }
  const { startBrowserServer } = await import('../../browser/server');
  await withConnection(ctx, 'supervisor', async (api) => {
    const server = await startBrowserServer({ api, rendererDir: ctx.rendererDir, port: opts.port });
    ctx.out.line(`Xray UI: ${server.url}`);
    ctx.out.line('Anyone with this address can control your VMs; keep it private. Press Ctrl-C to stop.');
    // The browser gets a private file that signs it in once, not the URL: a command line is visible to every user.
    if (opts.open) ctx.openInBrowser(await server.openFile());
    await untilInterrupted(ctx);
    await server.close();
  });
}

export function registerUiCommands(program: Command, ctx: CliContext): void {
  program
    .command('ui')
    .description('open the Xray window; --browser serves it on 127.0.0.1 instead')
    .option('--browser', 'serve the UI to a web browser (for headless hosts and tests)')
    .option('--port <n>', 'port on 127.0.0.1 (default: a free one)', parsePort)
    .option('--no-open', 'print the address without opening a browser')
    .action((opts: UiOptions) => runUi(ctx, opts));
}

// Runs in: plain Node (CLI). `xray ui --browser`: the real UI in a browser,
// served on 127.0.0.1 over the running supervisor.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { startBrowserServer } from '../../browser/server';
import { XrayError } from '../../shared/errors';
import type { CliContext } from '../program';

export interface UiCommandOptions {
  /** rendererDir holds the built UI; the default is dist/renderer beside the bundled CLI. */
  readonly rendererDir?: string;
  // For testing: replaces launching the system browser.
  readonly openInBrowser?: (target: string) => void;
}

/** openInBrowser hands a file or URL to the desktop's opener; failing to open is not fatal. */
function openInBrowser(target: string): void {
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  const child = spawn(opener, [target], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new XrayError('invalid-argument', `--port must be a port number from 1 to 65535, not "${value}".`);
  return n;
}

export function registerUiCommands(program: Command, ctx: CliContext, options: UiCommandOptions = {}): void {
  program
    .command('ui')
    .description('open the Xray window; --browser serves it on 127.0.0.1 instead')
    .option('--browser', 'serve the UI to a web browser (for headless hosts and tests)')
    .option('--port <n>', 'port on 127.0.0.1 (default: a free one)', parsePort)
    .option('--no-open', 'print the address without opening a browser')
    .action(async (opts: { browser?: boolean; port?: number; open: boolean }) => {
      if (!opts.browser) {
        throw new XrayError('unsupported', 'The desktop window opens from the Xray app; use "xray ui --browser" to open the UI in a web browser.');
      }
      const api = await ctx.supervisor();
      let server;
      try {
        server = await startBrowserServer({
          api,
          rendererDir: options.rendererDir ?? fileURLToPath(new URL('../renderer', import.meta.url)),
          port: opts.port,
        });
      } catch (err) {
        api.close?.();
        throw err;
      }
      ctx.out.line(`Xray UI: ${server.url}`);
      ctx.out.line('Anyone with this address can control your VMs; keep it private. Press Ctrl-C to stop.');
      // The browser gets a private file that signs it in once, not the URL: a command line is visible to every user.
      if (opts.open) (options.openInBrowser ?? openInBrowser)(await server.openFile());
      await new Promise<void>((resolve) => {
        const release = ctx.onInterrupt(() => {
          release();
          void server.close().finally(() => {
            api.close?.();
            resolve();
          });
        });
      });
    });
}

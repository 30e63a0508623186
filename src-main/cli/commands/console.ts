// Runs in: plain Node (CLI). `xray console`: this terminal attached to a VM's
// serial console until Ctrl-] (as in virsh console), or the end of its log.
import { StringDecoder } from 'node:string_decoder';
import type { Command } from 'commander';
import type { XrayApi } from '../../shared/contract';
import { ConsoleFollower, consoleInputChunks } from '../../shared/console';
import { XrayError } from '../../shared/errors';
import { isActive } from '../../shared/vm';
import { withConnection, type CliContext } from '../context';
import { arg, positiveInt } from '../declare';

/** DETACH_KEY lets go of an attached console, as in virsh console and telnet: Ctrl-]. */
export const DETACH_KEY = '\x1d';

export interface ConsoleOptions {
  readonly name: string;
  /** lines prints that many lines from the end and exits instead of attaching. */
  readonly lines?: number;
}

/** How an attached console ended: detached by the user, or the VM stopped. */
type Ending = 'detached' | 'stopped';

/**
 * runConsole attaches this terminal to a VM's serial console when it is a
 * terminal (raw keys go to the guest, Ctrl-C included; Ctrl-] detaches);
 * with --lines, or from a script, it prints the end of the console and exits.
 */
export async function runConsole(ctx: CliContext, opts: ConsoleOptions): Promise<void> {
  const { stdin } = ctx.term;
  if (opts.lines !== undefined || !stdin.isTTY || !stdin.setRawMode) {
    const { text } = await withConnection(ctx, 'files', (api) => api.call('vm.console', { name: opts.name }));
    const lines = text.split(/\r?\n/).map((l) => l.trimEnd()).filter((l) => l !== '');
    for (const line of lines.slice(-(opts.lines ?? 50))) ctx.out.line(line);
    return;
  }
  const ending = await withConnection(ctx, { vm: opts.name }, (api) => attach(ctx, api, opts.name));
  ctx.out.stderr.write(ending === 'detached' ? `\nDetached from VM "${opts.name}".\n` : `\nVM "${opts.name}" stopped.\n`);
}

/** attach shows the console's scrollback, then its output as it comes, and sends keys until Ctrl-] or the VM stops. */
async function attach(ctx: CliContext, api: XrayApi, name: string): Promise<Ending> {
  const { stdin, stdout } = ctx.term;
  let end: (outcome: Ending | Error) => void = () => undefined;
  const ended = new Promise<Ending | Error>((resolve) => (end = resolve));
  const fetch = () =>
    api.call('vm.console', { name }).then(
      (scrollback) => follower.scrollback(scrollback),
      (err: unknown) => end(err as Error),
    );
  const follower = new ConsoleFollower({ reset: (text) => stdout.write(text), write: (text) => stdout.write(text) }, () => void fetch());
  const unsubscribe = api.subscribe((event) => {
    if (event.type === 'console.output' && event.vm === name) follower.output(event);
    if (event.type === 'vm.state' && event.vm === name && !isActive(event.state)) end('stopped');
  });
  const keys = new StringDecoder('utf8');
  let sending = Promise.resolve();
  const onKeys = (chunk: Buffer) => {
    const text = keys.write(chunk);
    const detach = text.indexOf(DETACH_KEY);
    for (const data of consoleInputChunks(detach >= 0 ? text.slice(0, detach) : text)) {
      sending = sending.then(() => api.call('vm.consoleInput', { name, data })).then(() => undefined, (err: unknown) => end(err as Error));
    }
    if (detach >= 0) void sending.then(() => end('detached'));
  };
  try {
    const first = await api.call('vm.console', { name });
    if (first.stream === null) {
      throw new XrayError('invalid-argument', `VM "${name}" is not running; start it with "xray start ${name}", or see the end of its console with "xray console ${name} --lines 50".`);
    }
    ctx.out.stderr.write(`Connected to the serial console of VM "${name}"; press Ctrl-] to detach.\n`);
    follower.scrollback(first);
    stdin.setRawMode?.(true);
    if (stdin === process.stdin) translateNewlines(false);
    stdin.on('data', onKeys);
    stdin.once('end', () => end('detached'));
    stdin.resume();
    const outcome = await ended;
    if (outcome instanceof Error) throw outcome;
    return outcome;
  } finally {
    unsubscribe();
    stdin.off('data', onKeys);
    stdin.setRawMode?.(false);
    stdin.pause();
  }
}

/**
 * translateNewlines turns the terminal's output translation of \n into \r\n
 * on or off. Node's raw mode leaves it on, so the guest's own \r\n would
 * reach the screen as \r\r\n; Node has no call for it, so stty, which acts
 * on its standard input, does it. Leaving raw mode restores the terminal's
 * settings from before, this one included.
 */
function translateNewlines(on: boolean): void {
  process.getBuiltinModule('node:child_process').spawnSync('stty', [on ? 'onlcr' : '-onlcr'], { stdio: ['inherit', 'ignore', 'ignore'] });
}

export function registerConsoleCommands(program: Command, ctx: CliContext): void {
  program
    .command('console')
    .description("attach this terminal to a VM's serial console (Ctrl-] detaches), or print its end with --lines")
    .addArgument(arg('<name>', 'vm'))
    .option('-n, --lines <n>', 'print the last N lines and exit (what happens without a terminal, with 50)', positiveInt('--lines'))
    .action((name: string, opts: Omit<ConsoleOptions, 'name'>) => runConsole(ctx, { ...opts, name }));
}

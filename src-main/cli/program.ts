// Runs in: plain Node (CLI). The `xray` program: each command group wired in,
// and run(), which parses argv and turns the outcome into an exit status.
import { Command, CommanderError } from 'commander';
import { cliMessage } from '../shared/errors';
import { registerBaseCommands } from './commands/base';
import { registerCompletionCommands } from './commands/completion';
import { registerConfigCommands } from './commands/config';
import { registerConsoleCommands } from './commands/console';
import { registerEventCommands } from './commands/events';
import { registerFirewallCommands } from './commands/firewall';
import { registerHookCommands } from './commands/hooks';
import { registerPluginCommands } from './commands/plugin';
import { registerPortCommands } from './commands/port';
import { registerSecretCommands } from './commands/secret';
import { registerShareCommands } from './commands/share';
import { registerSetCommands } from './commands/set';
import { registerSnapshotCommands } from './commands/snapshot';
import { registerSshCommands } from './commands/ssh';
import { registerTimelineCommands } from './commands/timeline';
import { registerUiCommands } from './commands/ui';
import { registerVmCommands } from './commands/vm';
import { ExitCode, type CliContext } from './context';

/** GROUPS add their commands in the order `xray --help` lists them. */
const GROUPS: readonly ((program: Command, ctx: CliContext) => void)[] = [
  registerVmCommands,
  registerSetCommands,
  registerConsoleCommands,
  registerEventCommands,
  registerPortCommands,
  registerShareCommands,
  registerBaseCommands,
  registerSnapshotCommands,
  registerTimelineCommands,
  registerConfigCommands,
  registerFirewallCommands,
  registerSecretCommands,
  registerUiCommands,
  registerSshCommands,
  registerHookCommands,
  registerPluginCommands,
  registerCompletionCommands,
];

/**
 * buildProgram declares the commands over ctx; parsing happens in run().
 * Given the word a command line starts with, it stops after the group that
 * declares that command: declaring every command with its options costs each
 * run a millisecond or two. Without a word, or with one no group declares,
 * every group is declared, for the full help and commander's suggestions.
 */
export function buildProgram(ctx: CliContext, word?: string): Command {
  const { out } = ctx;
  const program = new Command('xray')
    .description('Disposable, firewalled Linux VMs: create, run, snapshot and guard them.')
    .version('0.1.0')
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (s) => out.stdout.write(s),
      writeErr: (s) => out.stderr.write(s),
      outputError: (s) => out.error(s.replace(/^error: /, '').trim()),
    })
    .exitOverride();
  for (const register of GROUPS) {
    register(program, ctx);
    if (word !== undefined && program.commands.some((command) => command.name() === word || command.aliases().includes(word))) break;
  }
  return program;
}

/** SUCCESSFUL_EXITS are commander's ways of ending that are not failures: help and the version. */
const SUCCESSFUL_EXITS = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/** run parses argv and runs the command over ctx; it resolves with the process exit status. */
export async function run(ctx: CliContext, argv: readonly string[]): Promise<number> {
  try {
    await buildProgram(ctx, argv[0]).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof ExitCode) return err.code;
    if (err instanceof CommanderError) return SUCCESSFUL_EXITS.has(err.code) || err.exitCode === 0 ? 0 : 1;
    ctx.out.error(cliMessage(err));
    return 1;
  }
}

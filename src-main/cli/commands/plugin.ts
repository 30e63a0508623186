// Runs in: plain Node (CLI). `xray plugin …`: plugins in XRAY_HOME/plugins.
import type { Command } from 'commander';
import { withConnection, type CliContext } from '../context';
import { arg } from '../declare';

/** runPluginList prints each plugin with its commands (marking the risky ones) and hooks, or why it failed to load. */
export async function runPluginList(ctx: CliContext, opts: { readonly json?: boolean }): Promise<void> {
  const { out } = ctx;
  const plugins = await withConnection(ctx, 'files', (api) => api.call('plugin.list', {}));
  if (opts.json) return out.json(plugins);
  if (plugins.length === 0) return out.line(`No plugins. Put .js or .mjs files in ${ctx.paths.pluginsDir}.`);
  for (const p of plugins) {
    if (p.error) {
      out.line(`${out.bold(p.name)}  ${out.tint('failed to load', 'red')}: ${p.error}`);
      continue;
    }
    out.line(`${out.bold(p.name)}${p.hooks.length > 0 ? `  hooks: ${p.hooks.join(', ')}` : ''}`);
    for (const c of p.commands) out.line(`  ${c.name}  ${out.dim(c.description)}${c.risky ? `  ${out.tint('risky: snapshots each VM first', 'yellow')}` : ''}`);
  }
}

export interface PluginRunOptions {
  readonly plugin: string;
  readonly command: string;
  readonly args: readonly string[];
}

/** runPluginRun runs one plugin command and prints what it returned. */
export async function runPluginRun(ctx: CliContext, opts: PluginRunOptions): Promise<void> {
  const { output } = await withConnection(ctx, 'files', (api) => api.call('plugin.run', { plugin: opts.plugin, command: opts.command, args: [...opts.args] }));
  ctx.out.stdout.write(output);
}

export function registerPluginCommands(program: Command, ctx: CliContext): void {
  const plugin = program.command('plugin').description('plugins in XRAY_HOME/plugins: list them, run their commands');
  plugin
    .command('list')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => runPluginList(ctx, opts));
  plugin
    .command('run')
    .description('run a plugin command (put options for it after --)')
    .addArgument(arg('<plugin>', 'nothing'))
    .addArgument(arg('<command>', 'nothing'))
    .addArgument(arg('[args...]', 'nothing'))
    .action((name: string, command: string, args: string[]) => runPluginRun(ctx, { plugin: name, command, args }));
}

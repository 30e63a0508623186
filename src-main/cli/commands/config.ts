// Runs in: plain Node (CLI). `xray config …`: the global settings in config.toml.
import type { Command } from 'commander';
import { withConnection, type CliContext } from '../context';
import { arg } from '../declare';

export interface ConfigShowOptions {
  readonly json?: boolean;
}

/** runConfigShow prints every setting. */
export async function runConfigShow(ctx: CliContext, opts: ConfigShowOptions): Promise<void> {
  const settings = await withConnection(ctx, 'files', (api) => api.call('config.get', {}));
  if (opts.json) return ctx.out.json(settings);
  for (const [key, value] of Object.entries(settings)) ctx.out.line(`${key} = ${JSON.stringify(value)}`);
}

export interface ConfigSetOptions {
  readonly key: string;
  readonly value: string;
}

/** runConfigSet changes one setting; an empty value removes it from config.toml. */
export async function runConfigSet(ctx: CliContext, opts: ConfigSetOptions): Promise<void> {
  await withConnection(ctx, 'files', (api) => api.call('config.set', { key: opts.key, value: opts.value }));
  ctx.out.line(`Set ${opts.key}.`);
}

export function registerConfigCommands(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('show and change global settings');
  config
    .command('show')
    .option('--json', 'print JSON')
    .action((opts: ConfigShowOptions) => runConfigShow(ctx, opts));
  config
    .command('set')
    .addArgument(arg('<key>', 'nothing'))
    .addArgument(arg('<value>', 'nothing', 'the new value; empty removes the key'))
    .action((key: string, value: string) => runConfigSet(ctx, { key, value }));
  config
    .command('path')
    .description('print the path of config.toml')
    .action(() => ctx.out.line(ctx.paths.configFile));
}

// Runs in: plain Node (CLI). `xray config …`: the global settings in config.toml.
import type { Command } from 'commander';
import type { GlobalSettings } from '../../shared/models';
import { FIRMWARE_KEYS, SETTABLE_KEYS, SETTING_KEYS as KEY } from '../../shared/settings';
import { withConnection, type CliContext } from '../context';
import { arg } from '../declare';

/**
 * settingRows lists each key `xray config set` takes with its value written
 * the way config set takes it back (lists comma-separated, empty when unset),
 * so any row can be copied into a config set command.
 */
export function settingRows(settings: GlobalSettings): [string, string][] {
  const firmware = [...new Set([...FIRMWARE_KEYS, ...Object.keys(settings.firmware)])];
  return [
    [KEY.autostart, typeof settings.autostart === 'boolean' ? String(settings.autostart) : settings.autostart.join(',')],
    [KEY.promptTimeoutSeconds, String(settings.promptTimeoutSeconds)],
    [KEY.defaultAction, settings.defaultAction],
    [KEY.denyWhenNoClient, String(settings.denyWhenNoClient)],
    [KEY.stopTimeoutSeconds, String(settings.stopTimeoutSeconds)],
    [KEY.bootTimeoutSeconds, settings.bootTimeoutSeconds === null ? '' : String(settings.bootTimeoutSeconds)],
    [KEY.sshKey, settings.sshKey ?? ''],
    [KEY.dnsServers, settings.dnsServers.join(',')],
    [KEY.imageMirror, settings.imageMirror ?? ''],
    [KEY.upstreamCaFile, settings.upstreamCaFile ?? ''],
    [KEY.autoSnapshots, String(settings.autoSnapshots)],
    [KEY.autoSnapshotsKeep, String(settings.autoSnapshotsKeep)],
    ...firmware.map((name): [string, string] => [`${KEY.firmware}.${name}`, settings.firmware[name] ?? '']),
  ];
}

export interface ConfigShowOptions {
  readonly json?: boolean;
}

/**
 * runConfigShow prints every setting under the key config set takes; --json
 * prints the API's GlobalSettings object, the same shape the app reads.
 */
export async function runConfigShow(ctx: CliContext, opts: ConfigShowOptions): Promise<void> {
  const settings = await withConnection(ctx, 'files', (api) => api.call('config.get', {}));
  if (opts.json) return ctx.out.json(settings);
  ctx.out.table(['KEY', 'VALUE'], settingRows(settings));
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
    .addArgument(arg('<key>', SETTABLE_KEYS))
    .addArgument(arg('<value>', 'nothing', 'the new value; empty removes the key'))
    .action((key: string, value: string) => runConfigSet(ctx, { key, value }));
  config
    .command('path')
    .description('print the path of config.toml')
    .action(() => ctx.out.line(ctx.paths.configFile));
}

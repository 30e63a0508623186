// Runs in: plain Node (CLI). `xray timeline VM`: what a VM did, oldest first.
import type { Command } from 'commander';
import { XrayError } from '../../shared/errors';
import { timelineText } from '../../shared/format';
import { withConnection, type CliContext } from '../context';
import { arg, positiveInt } from '../declare';

export interface TimelineOptions {
  readonly vm: string;
  readonly since?: string;
  readonly limit?: number;
  readonly json?: boolean;
}

const AGO = /^(\d+)([smhd])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** sinceFrom reads --since: an ISO date and time, or a while ago like 30m, 2h or 1d. */
export function sinceFrom(text: string, now: number = Date.now()): string {
  const ago = AGO.exec(text);
  if (ago) return new Date(now - Number(ago[1]) * UNIT_MS[ago[2] as keyof typeof UNIT_MS]).toISOString();
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/^\d{4}-\d\d-\d\d/.test(text)) {
    throw new XrayError('invalid-argument', `--since takes a date and time like 2026-11-30T09:00:00Z or a while ago like 30m, 2h or 1d, not "${text}".`);
  }
  return new Date(at).toISOString();
}

/** runTimeline prints a VM's timeline: its starts and stops, snapshots, connections, prompts and hook runs. */
export async function runTimeline(ctx: CliContext, opts: TimelineOptions): Promise<void> {
  const since = opts.since === undefined ? undefined : sinceFrom(opts.since);
  const entries = await withConnection(ctx, 'files', (api) => api.call('vm.timeline', { vm: opts.vm, since, limit: opts.limit }));
  if (opts.json) return ctx.out.json(entries);
  if (entries.length === 0) return ctx.out.line(`VM "${opts.vm}" has nothing on its timeline${since ? ' since then' : ' yet'}.`);
  ctx.out.table(['WHEN', 'WHAT', ''], entries.map((e) => [e.at, e.kind, timelineText(e)]));
}

export function registerTimelineCommands(program: Command, ctx: CliContext): void {
  program
    .command('timeline')
    .description("what a VM did: starts, stops, snapshots, connections, prompts and hook runs, oldest first")
    .addArgument(arg('<vm>', 'vm'))
    .option('--since <when>', 'only from then on: a date and time, or a while ago like 30m, 2h, 1d')
    .option('-n, --limit <n>', 'at most the newest N entries (default 1000)', positiveInt('--limit'))
    .option('--json', 'print JSON')
    .action((vm: string, opts: Omit<TimelineOptions, 'vm'>) => runTimeline(ctx, { ...opts, vm }));
}

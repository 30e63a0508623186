// Runs in: plain Node (CLI). `xray firewall learned`: what a VM reached in
// learn mode (`xray start VM --learn`), and a reviewed selection of it made
// into rules.
import type { Command } from 'commander';
import { XrayError } from '../../shared/errors';
import { LEARN_LIMITS, type LearnedItem, type LearnedReview } from '../../shared/learned';
import type { FirewallRule } from '../../shared/models';
import { checklist } from '../checklist';
import { withConnection, type CliContext } from '../context';
import { arg } from '../declare';
import { isInteractive } from '../interact';
import type { Output } from '../output';

export interface FirewallLearnedOptions {
  readonly vm: string;
  readonly json?: boolean;
  /** apply turns a selection into rules: ticked at a terminal, or given by all or select. */
  readonly apply?: boolean;
  /** all selects every item no rule decides yet. */
  readonly all?: boolean;
  /** select names items by their numbers in the list: "1,3-5". */
  readonly select?: string;
}

/**
 * runFirewallLearned shows what a VM reached in its last learn run, or, with
 * --apply, --all or --select, adds an allow rule (forever) for each item
 * chosen. At a terminal --apply offers a checklist with the new items
 * ticked; a script says which with --all or --select.
 */
export async function runFirewallLearned(ctx: CliContext, opts: FirewallLearnedOptions): Promise<void> {
  const { out } = ctx;
  const { vm } = opts;
  if (opts.all && opts.select !== undefined) throw new XrayError('invalid-argument', 'Give --all or --select, not both.');
  const review = await withConnection(ctx, 'files', (api) => api.call('firewall.learned', { vm }));
  const choosing = opts.apply || opts.all || opts.select !== undefined;
  if (!choosing) return opts.json ? out.json(review) : showReview(out, review);
  if (review.startedAt === null) throw new XrayError('not-found', neverLearned(vm));
  const fresh = review.items.flatMap((item, i) => (item.now === null ? [i] : []));
  let chosen: number[];
  if (opts.select !== undefined) chosen = parseSelection(opts.select, review.items.length, vm);
  else if (opts.all) chosen = fresh;
  else {
    if (!isInteractive(ctx.term)) throw new XrayError('invalid-argument', `Not asking without a terminal which of what VM "${vm}" learned become rules; pass --all for every new one, or --select with their numbers, like --select 1,3.`);
    if (review.items.length === 0) return out.line(nothingReached(review));
    const ticked = await checklist(ctx.term, `Allow for VM "${vm}", forever:`, review.items.map(itemLabel), new Set(fresh));
    if (ticked === null) throw new XrayError('cancelled', 'Nothing was changed.');
    chosen = [...ticked].sort((a, b) => a - b);
  }
  const targets = chosen.map((i) => (review.items[i] as LearnedItem).target);
  if (targets.length === 0) {
    if (opts.json) return out.json([]);
    return out.line(opts.all ? `Nothing VM "${vm}" learned is new; every item already has a rule.` : 'Nothing was chosen; no rule was added.');
  }
  const added = await withConnection(ctx, 'files', async (api) => {
    const rules: FirewallRule[] = [];
    for (const target of targets) rules.push(await api.call('firewall.add', { vm, target, action: 'allow', lifetime: 'forever' }));
    return rules;
  });
  if (opts.json) return out.json(added);
  out.line(`Allowed for VM "${vm}", forever:`);
  for (const rule of added) out.line(`  ${rule.id}`);
}

function neverLearned(vm: string): string {
  return `VM "${vm}" has not run in learn mode; start it with "xray start ${vm} --learn", use it, then review what it reached here.`;
}

function nothingReached(review: LearnedReview): string {
  return `VM "${review.vm}" reached nothing in its learn run from ${review.startedAt}${review.learning ? ' (still learning)' : ''}.`;
}

/** nowText is what decides an item under today's rules, in words: "new", "allowed by X", "denied by X". */
function nowText(item: LearnedItem): string {
  if (item.now === null) return 'new';
  return `${item.now.action === 'allow' ? 'allowed' : 'denied'} by ${item.now.by}`;
}

/** reachedText is an item as the list shows it: the destination, or its methods and path indented under it. */
function reachedText(item: LearnedItem): string {
  return item.kind === 'connection' ? `${item.host}:${item.port}` : `  ${(item.methods ?? []).join(',')} ${item.path ?? ''}`;
}

function itemLabel(item: LearnedItem): string {
  const seen = `${item.count} ${item.kind === 'connection' ? 'connection' : 'request'}${item.count === 1 ? '' : 's'}`;
  return `${reachedText(item)}  (${seen}${item.now === null ? '' : `, ${nowText(item)}`})`;
}

function showReview(out: Output, review: LearnedReview): void {
  const { vm } = review;
  if (review.startedAt === null) return out.line(neverLearned(vm));
  if (review.items.length === 0) return out.line(nothingReached(review));
  out.line(`VM "${vm}" reached, learning from ${review.startedAt}${review.learning ? ' (still learning)' : ` to ${review.updatedAt}`}:`);
  const now = (item: LearnedItem) => (item.now === null ? out.tint('new', 'yellow') : nowText(item));
  out.table(['#', 'REACHED', 'SEEN', 'NOW'], review.items.map((item, i) => [String(i + 1), reachedText(item), String(item.count), now(item)]));
  if (review.dropped > 0) out.line(`${review.dropped} more were not recorded: a learn run keeps at most ${LEARN_LIMITS.destinations} destinations and ${LEARN_LIMITS.requestsPerDestination} kinds of request each.`);
  if (review.items.some((item) => item.now === null)) {
    out.line(`Make rules of them with "xray firewall learned ${vm} --apply", or in a script --all (every new one) or --select 1,3.`);
  }
}

/** parseSelection reads "1,3-5" into item indexes (0-based), naming a number that is not an item. */
export function parseSelection(text: string, count: number, vm: string): number[] {
  const chosen = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!match) throw new XrayError('invalid-argument', `--select takes item numbers and ranges like 1,3-5, not "${text}".`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    for (const n of [from, to]) {
      if (n < 1 || n > count) throw new XrayError('invalid-argument', `There is no item ${n}; "xray firewall learned ${vm}" lists ${count === 0 ? 'none' : `1 to ${count}`}.`);
    }
    for (let n = Math.min(from, to); n <= Math.max(from, to); n++) chosen.add(n - 1);
  }
  return [...chosen].sort((a, b) => a - b);
}

/** registerLearnedCommand adds `learned` to the `firewall` group. */
export function registerLearnedCommand(fw: Command, ctx: CliContext): void {
  fw.command('learned')
    .description('what a VM reached in learn mode (xray start VM --learn), and rules made of it')
    .addArgument(arg('<vm>', 'vm'))
    .option('--apply', 'choose items to allow forever (a checklist at a terminal)')
    .option('--all', 'allow every item no rule decides yet')
    .option('--select <numbers>', 'allow these items, like 1,3-5')
    .option('--json', 'print JSON')
    .action((vm: string, opts: Omit<FirewallLearnedOptions, 'vm'>) => runFirewallLearned(ctx, { ...opts, vm }));
}

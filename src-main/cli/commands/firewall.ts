// Runs in: plain Node (CLI). `xray firewall …`: rules, log, prompts. Rules
// and logs are files, so they need no supervisor; prompts, and rules that last
// only while a VM runs, need the engine.
import { Option, type Command } from 'commander';
import type { PromptLifetime, PromptScope, RuleAction } from '../../shared/enums';
import { describeEgressReport } from '../../shared/egress';
import { PROMPT_SCOPES, RULE_ACTIONS } from '../../shared/words';
import { XrayError } from '../../shared/errors';
import { questionText } from '../../shared/format';
import type { FirewallPrompt, FirewallRule } from '../../shared/models';
import { withConnection, type CliContext } from '../context';
import { arg, collect, positiveInt } from '../declare';
import { confirmOrForce, readKeys } from '../interact';
import { hostText, httpRuleTarget, requestsText } from './firewall-http';
import { registerLearnedCommand } from './firewall-learned';
import { registerPolicyCommands } from './firewall-policy';
import { registerConnectionsCommand } from './connections';

const ACTIONS = RULE_ACTIONS;

/** parseDuration reads "90s", "15m", "1h", "2d" into seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (!match) throw new XrayError('invalid-argument', `"${text}" is not a duration; write it like 30m, 1h or 2d.`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds <= 0) throw new XrayError('invalid-argument', 'A duration must be longer than zero.');
  return seconds;
}

function ruleAction(text: string): RuleAction {
  if (text === 'allow' || text === 'deny') return text;
  throw new XrayError('invalid-argument', `"${text}" is neither allow nor deny.`);
}

function lifetimeText(rule: FirewallRule): string {
  switch (rule.lifetime.kind) {
    case 'once':
      return 'once';
    case 'duration':
      return `until ${rule.lifetime.until}`;
    case 'until-stop':
      return 'until the VM stops';
    case 'forever':
      return 'forever';
  }
}

export interface LifetimeOptions {
  readonly for?: string;
  readonly untilStop?: boolean;
  readonly forever?: boolean;
  readonly once?: boolean;
}

function lifetimeFrom(opts: LifetimeOptions, fallback: PromptLifetime): { lifetime: PromptLifetime; durationSeconds?: number } {
  const chosen = [opts.for !== undefined, opts.untilStop, opts.forever, opts.once].filter(Boolean).length;
  if (chosen > 1) throw new XrayError('invalid-argument', 'Give one of --once, --for, --until-stop and --forever.');
  if (opts.for !== undefined) return { lifetime: 'duration', durationSeconds: parseDuration(opts.for) };
  if (opts.untilStop) return { lifetime: 'until-stop' };
  if (opts.forever) return { lifetime: 'forever' };
  if (opts.once) return { lifetime: 'once' };
  return { lifetime: fallback };
}

/** describePrompt is a prompt on one line: `[ID] dev → example.com (1.2.3.4):443 https`, or for a request `[ID] dev → GET api.github.com/user (1.2.3.4:443)`. */
export function describePrompt(p: FirewallPrompt): string {
  const d = p.destination;
  const proc = p.guestProcess ? ` by ${p.guestProcess.command} (pid ${p.guestProcess.pid})` : '';
  if (p.request) return `[${p.id}] ${p.vm} → ${questionText(p)} (${d.ip ?? '?'}:${d.port})${proc}`;
  const where = d.name ? `${d.name}${d.ip ? ` (${d.ip})` : ''}` : (d.ip ?? '?');
  const service = d.service ? ` ${d.service}` : '';
  return `[${p.id}] ${p.vm} → ${where}:${d.port}${service}${proc}`;
}

export interface VmOptions {
  readonly vm: string;
  readonly json?: boolean;
}

/** runFirewallStatus sums up a VM's firewall: verified or not, rules, connections, prompts. */
export async function runFirewallStatus(ctx: CliContext, opts: VmOptions): Promise<void> {
  const { vm } = opts;
  const [summary, rules] = await withConnection(ctx, 'files', async (api) => {
    const found = (await api.call('vm.list', {})).find((v) => v.name === vm);
    if (!found) throw new XrayError('not-found', `VM "${vm}" does not exist; run "xray list" to see your VMs.`);
    return [found, await api.call('firewall.rules', { vm })] as const;
  });
  const { state, firewallActive, openConnections, pendingPrompts } = summary;
  if (opts.json) return ctx.out.json({ vm, state, firewallActive, rules: rules.length, openConnections, pendingPrompts });
  ctx.out.line(`${vm}: ${state}, firewall ${firewallActive ? 'active' : 'not verified in the guest'}`);
  ctx.out.line(`  ${rules.length} rules, ${openConnections} open connections, ${pendingPrompts} prompts waiting`);
}

/** runFirewallList prints a VM's rules, its own and the defaults. */
export async function runFirewallList(ctx: CliContext, opts: VmOptions): Promise<void> {
  const { out } = ctx;
  const rules = await withConnection(ctx, 'files', (api) => api.call('firewall.rules', { vm: opts.vm }));
  if (opts.json) return out.json(rules);
  if (rules.length === 0) return out.line(`VM "${opts.vm}" has no rules; unknown destinations are asked about.`);
  const action = (r: FirewallRule) => (r.action === 'allow' ? out.tint('allow', 'green') : out.tint('deny', 'red'));
  // An id with spaces (an HTTP rule's) is shown quoted, as "firewall remove" takes it.
  const id = (r: FirewallRule) => (r.id.includes(' ') ? `"${r.id}"` : r.id);
  out.table(['ID', 'ACTION', 'HOST', 'REQUESTS', 'LIFETIME', 'SOURCE'], rules.map((r) => [id(r), action(r), hostText(r.target), requestsText(r.target), lifetimeText(r), r.source]));
}

export interface FirewallAddOptions extends LifetimeOptions {
  readonly vm: string;
  readonly action: string;
  readonly target: string;
  /** method narrows the rule to some HTTP methods (each value one or several, comma-separated). */
  readonly method?: readonly string[];
  /** path narrows the rule to request paths matching a pattern, `*` for any run of characters. */
  readonly path?: string;
  readonly json?: boolean;
}

/** runFirewallAdd adds a rule; one that lasts until the VM stops lives in its supervisor. */
export async function runFirewallAdd(ctx: CliContext, opts: FirewallAddOptions): Promise<void> {
  const { vm } = opts;
  const action = ruleAction(opts.action);
  const target = httpRuleTarget(opts.target, opts.method ?? [], opts.path);
  const life = lifetimeFrom(opts, 'forever');
  if (life.lifetime === 'once') throw new XrayError('invalid-argument', 'A rule added by hand cannot be for one connection; use --for, --until-stop or --forever.');
  const reach = life.lifetime === 'until-stop' ? { vm } : 'files';
  const rule = await withConnection(ctx, reach, (api) => api.call('firewall.add', { vm, target, action, lifetime: life.lifetime, durationSeconds: life.durationSeconds }));
  if (opts.json) return ctx.out.json(rule);
  const requests = requestsText(rule.target);
  ctx.out.line(`${action === 'allow' ? 'Allowed' : 'Denied'} ${hostText(rule.target)}${requests === 'all' ? '' : ` (${requests})`} for VM "${vm}" (${lifetimeText(rule)}).`);
}

/** runFirewallRemove removes one rule by its id. */
export async function runFirewallRemove(ctx: CliContext, opts: { readonly vm: string; readonly id: string }): Promise<void> {
  await withConnection(ctx, 'files', (api) => api.call('firewall.remove', { vm: opts.vm, id: opts.id }));
  ctx.out.line(`Removed rule ${opts.id} from VM "${opts.vm}".`);
}

/** runFirewallClear removes every rule of a VM once the person agrees (or --force says so). */
export async function runFirewallClear(ctx: CliContext, opts: { readonly vm: string; readonly force?: boolean }): Promise<void> {
  await confirmOrForce(ctx.term, opts.force, `Remove every rule of VM "${opts.vm}"? Unknown destinations are then asked about again.`);
  await withConnection(ctx, 'files', (api) => api.call('firewall.clear', { vm: opts.vm }));
  ctx.out.line(`Cleared the rules of VM "${opts.vm}".`);
}

export interface FirewallLogOptions extends VmOptions {
  readonly limit: number;
}

/** runFirewallLog prints a VM's latest decisions, connections and DNS answers. */
export async function runFirewallLog(ctx: CliContext, opts: FirewallLogOptions): Promise<void> {
  const { out } = ctx;
  const entries = await withConnection(ctx, 'files', (api) => api.call('firewall.log', { vm: opts.vm, limit: opts.limit }));
  if (opts.json) return out.json(entries);
  if (entries.length === 0) return out.line(`VM "${opts.vm}" has made no connections or DNS lookups that Xray logged yet.`);
  for (const e of entries) {
    const d = e.destination;
    const where = `${d.name ?? d.ip}:${d.port}`;
    if (e.kind === 'dns') out.line(`${e.at}  dns         ${d.name} → ${(e.addresses ?? []).join(', ')}`);
    else if (e.kind === 'decision') out.line(`${e.at}  ${(e.action ?? '').padEnd(10)}  ${where}  ${out.dim(e.reason ?? '')}`);
    else out.line(`${e.at}  connection  ${where}  ↑${e.bytesUp ?? 0} B ↓${e.bytesDown ?? 0} B ${e.durationMs ?? 0} ms`);
  }
}

/** runFirewallPrompts prints the prompts waiting for an answer. */
export async function runFirewallPrompts(ctx: CliContext, opts: { readonly json?: boolean }): Promise<void> {
  const prompts = await withConnection(ctx, 'files', (api) => api.call('prompt.list', {}));
  if (opts.json) return ctx.out.json(prompts);
  if (prompts.length === 0) return ctx.out.line('No prompts are waiting.');
  for (const p of prompts) ctx.out.line(describePrompt(p));
}

export interface FirewallAnswerOptions extends LifetimeOptions {
  readonly id: string;
  readonly action: string;
  /** scope left out is the prompt's narrowest: host-port for a connection, request for an HTTP request. */
  readonly scope?: PromptScope;
}

/** runFirewallAnswer answers a waiting prompt. */
export async function runFirewallAnswer(ctx: CliContext, opts: FirewallAnswerOptions): Promise<void> {
  const action = ruleAction(opts.action);
  const life = lifetimeFrom(opts, 'once');
  await withConnection(ctx, 'files', (api) => api.call('prompt.answer', { id: opts.id, action, scope: opts.scope, lifetime: life.lifetime, durationSeconds: life.durationSeconds }));
  ctx.out.line(`Answered prompt ${opts.id}: ${action}.`);
}

/** WATCH_KEYS are the single keys `firewall watch` answers the oldest prompt with. */
const WATCH_KEYS: Readonly<Record<string, { action: RuleAction; lifetime: PromptLifetime }>> = {
  a: { action: 'allow', lifetime: 'once' },
  A: { action: 'allow', lifetime: 'forever' },
  d: { action: 'deny', lifetime: 'once' },
  D: { action: 'deny', lifetime: 'forever' },
};

/**
 * runFirewallWatch shows decisions and refused requests as they happen and
 * answers the oldest prompt with one key press (its narrowest scope), until
 * interrupted or input ends.
 */
export async function runFirewallWatch(ctx: CliContext): Promise<void> {
  const { out } = ctx;
  await withConnection(ctx, 'supervisor', async (api) => {
    const queue: FirewallPrompt[] = [...(await api.call('prompt.list', {}))];
    const show = () => {
      const head = queue[0];
      if (head) out.line(`${describePrompt(head)}  allow? [a/A/d/D] `);
    };
    const stop = api.subscribe((event) => {
      if (event.type === 'prompt.opened') {
        queue.push(event.prompt);
        if (queue.length === 1) show();
      } else if (event.type === 'prompt.closed') {
        const index = queue.findIndex((p) => p.id === event.id);
        if (index >= 0) queue.splice(index, 1);
        out.line(`${event.vm}: prompt ${event.id} → ${event.action} (${event.reason})`);
        if (index === 0) show();
      } else if (event.type === 'firewall.decision') {
        const d = event.destination;
        out.line(`${event.vm}: ${event.action} ${d.name ?? d.ip}:${d.port} ${out.dim(event.reason)}`);
      } else if (event.type === 'egress.report' && (event.report.kind === 'secret-refused' || event.report.kind === 'request-refused')) {
        out.line(describeEgressReport(event.report));
      }
    });
    show();
    const keys = readKeys(ctx.term, (key) => {
      const head = queue[0];
      const answer = WATCH_KEYS[key];
      if (!head || !answer) return;
      void api.call('prompt.answer', { id: head.id, ...answer }).catch((err: Error) => out.error(err.message));
    });
    const release = ctx.onInterrupt(() => keys.stop());
    await keys.done;
    release();
    keys.stop();
    stop();
  });
}

export function registerFirewallCommands(program: Command, ctx: CliContext): void {
  const fw = program.command('firewall').description('see and decide what VMs may connect to');
  fw.command('status')
    .addArgument(arg('<vm>', 'vm'))
    .option('--json', 'print JSON')
    .action((vm: string, opts: { json?: boolean }) => runFirewallStatus(ctx, { ...opts, vm }));
  fw.command('list')
    .addArgument(arg('<vm>', 'vm'))
    .option('--json', 'print JSON')
    .action((vm: string, opts: { json?: boolean }) => runFirewallList(ctx, { ...opts, vm }));
  fw.command('add')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<allow|deny>', ACTIONS))
    .addArgument(arg('<target>', 'nothing', 'host:port, IP, CIDR, domain or *.domain, optionally with :port'))
    .option('--method <methods>', 'only these HTTP methods, like GET,POST (a host name only; repeatable)', collect, [])
    .option('--path <pattern>', 'only request paths matching this, * for any run of characters, like "/repos/acme/*"')
    .option('--for <duration>', 'for a while: 30m, 1h, 2d')
    .option('--until-stop', 'until the VM stops')
    .option('--forever', 'saved in vm.toml (the default)')
    .option('--json', 'print the rule as JSON')
    .action((vm: string, action: string, target: string, opts: LifetimeOptions & { method: string[]; path?: string; json?: boolean }) =>
      runFirewallAdd(ctx, { ...opts, vm, action, target }),
    );
  fw.command('remove')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<rule-id>', 'nothing'))
    .action((vm: string, id: string) => runFirewallRemove(ctx, { vm, id }));
  fw.command('clear')
    .description('remove every rule of a VM (asks first)')
    .addArgument(arg('<vm>', 'vm'))
    .option('-f, --force', 'do not ask')
    .action((vm: string, opts: { force?: boolean }) => runFirewallClear(ctx, { ...opts, vm }));
  fw.command('log')
    .addArgument(arg('<vm>', 'vm'))
    .option('-n, --limit <n>', 'how many entries', positiveInt('--limit'), 50)
    .option('--json', 'print JSON')
    .action((vm: string, opts: { limit: number; json?: boolean }) => runFirewallLog(ctx, { ...opts, vm }));
  registerConnectionsCommand(fw, ctx);
  fw.command('prompts')
    .description('pending prompts, with the ids "xray firewall answer" takes')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => runFirewallPrompts(ctx, opts));
  fw.command('answer')
    .addArgument(arg('<id>', 'prompt'))
    .addArgument(arg('<allow|deny>', ACTIONS))
    .addOption(new Option('--scope <scope>', 'what the answer covers; request-* for a prompt about an HTTP request (default: the narrowest)').choices(PROMPT_SCOPES))
    .option('--once', 'this connection only (the default)')
    .option('--for <duration>', 'for a while: 30m, 1h, 2d')
    .option('--until-stop', 'until the VM stops')
    .option('--forever', 'saved in vm.toml')
    .action((id: string, action: string, opts: LifetimeOptions & { scope?: PromptScope }) => runFirewallAnswer(ctx, { ...opts, id, action }));
  fw.command('watch')
    .description('show decisions live and answer prompts with one key: a = allow once, A = allow forever, d = deny once, D = deny forever')
    .action(() => runFirewallWatch(ctx));
  registerPolicyCommands(fw, ctx);
  registerLearnedCommand(fw, ctx);
}

// Runs in: plain Node (CLI). `xray firewall …`: rules, log, prompts.
import { createInterface } from 'node:readline';
import { Option, type Command } from 'commander';
import type { XrayApi } from '../../shared/contract';
import type { FirewallPrompt, FirewallRule, PromptLifetime, PromptScope } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { formatRuleTarget } from '../../shared/scopes';
import type { CliContext } from '../program';

/** parseDuration reads "90s", "15m", "1h", "2d" into seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (!match) throw new XrayError('invalid-argument', `"${text}" is not a duration; write it like 30m, 1h or 2d.`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds <= 0) throw new XrayError('invalid-argument', 'A duration must be longer than zero.');
  return seconds;
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

interface LifetimeOptions {
  for?: string;
  untilStop?: boolean;
  forever?: boolean;
  once?: boolean;
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

function describePrompt(p: FirewallPrompt): string {
  const d = p.destination;
  const where = d.name ? `${d.name}${d.ip ? ` (${d.ip})` : ''}` : (d.ip ?? '?');
  const service = d.service ? ` ${d.service}` : '';
  const proc = p.guestProcess ? ` by ${p.guestProcess.command} (pid ${p.guestProcess.pid})` : '';
  return `[${p.id}] ${p.vm} → ${where}:${d.port}${service}${proc}`;
}

export function registerFirewallCommands(program: Command, ctx: CliContext): void {
  const { out } = ctx;
  /**
   * withApi reaches the API: rules and logs are files, so the running
   * supervisor's API when there is one, else this process's; prompts and
   * rules that last only while a VM runs need the supervisor (`engine`),
   * which is started when none runs.
   */
  const withApi = async <T>(task: (api: XrayApi) => Promise<T>, engine = false): Promise<T> => {
    const api = await (engine ? ctx.supervisor() : ctx.api());
    try {
      return await task(api);
    } finally {
      (api as { close?: () => void }).close?.();
    }
  };

  const fw = program.command('firewall').description('see and decide what VMs may connect to');
  fw.command('status')
    .argument('<vm>')
    .option('--json', 'print JSON')
    .action(async (vm: string, opts: { json?: boolean }) =>
      withApi(async (api) => {
        const summary = (await api.call('vm.list', {})).find((v) => v.name === vm);
        if (!summary) throw new XrayError('not-found', `VM "${vm}" does not exist; run "xray list" to see your VMs.`);
        const rules = await api.call('firewall.rules', { vm });
        const status = { vm, state: summary.state, firewallActive: summary.firewallActive, rules: rules.length, openConnections: summary.openConnections, pendingPrompts: summary.pendingPrompts };
        if (opts.json) return out.json(status);
        out.line(`${vm}: ${summary.state}, firewall ${summary.firewallActive ? 'active' : 'not verified in the guest'}`);
        out.line(`  ${rules.length} rules, ${summary.openConnections} open connections, ${summary.pendingPrompts} prompts waiting`);
      }),
    );
  fw.command('list')
    .argument('<vm>')
    .option('--json', 'print JSON')
    .action(async (vm: string, opts: { json?: boolean }) =>
      withApi(async (api) => {
        const rules = await api.call('firewall.rules', { vm });
        if (opts.json) return out.json(rules);
        if (rules.length === 0) return out.line(`VM "${vm}" has no rules; unknown destinations are asked about.`);
        out.table(['ID', 'ACTION', 'TARGET', 'LIFETIME', 'SOURCE'], rules.map((r) => [r.id, r.action === 'allow' ? out.tint('allow', 'green') : out.tint('deny', 'red'), formatRuleTarget(r.target), lifetimeText(r), r.source]));
      }),
    );
  fw.command('add')
    .argument('<vm>')
    .argument('<allow|deny>')
    .argument('<target>', 'host:port, IP, CIDR, domain or *.domain, optionally with :port')
    .option('--for <duration>', 'for a while: 30m, 1h, 2d')
    .option('--until-stop', 'until the VM stops')
    .option('--forever', 'saved in vm.toml (the default)')
    .option('--json', 'print the rule as JSON')
    .action(async (vm: string, action: string, target: string, opts: LifetimeOptions & { json?: boolean }) => {
      if (action !== 'allow' && action !== 'deny') throw new XrayError('invalid-argument', `"${action}" is neither allow nor deny.`);
      const life = lifetimeFrom(opts, 'forever');
      if (life.lifetime === 'once') throw new XrayError('invalid-argument', 'A rule added by hand cannot be for one connection; use --for, --until-stop or --forever.');
      const running = life.lifetime === 'until-stop' && (await withApi(async (api) => (await api.call('vm.list', {})).some((v) => v.name === vm && v.pid !== null)));
      await withApi(async (api) => {
        const rule = await api.call('firewall.add', { vm, target, action, lifetime: life.lifetime, durationSeconds: life.durationSeconds });
        if (opts.json) out.json(rule);
        else out.line(`${action === 'allow' ? 'Allowed' : 'Denied'} ${formatRuleTarget(rule.target)} for VM "${vm}" (${lifetimeText(rule)}).`);
      }, running);
    });
  fw.command('remove')
    .argument('<vm>')
    .argument('<rule-id>')
    .action(async (vm: string, id: string) =>
      withApi(async (api) => {
        await api.call('firewall.remove', { vm, id });
        out.line(`Removed rule ${id} from VM "${vm}".`);
      }),
    );
  fw.command('clear')
    .argument('<vm>')
    .option('-f, --force', 'do not ask')
    .action(async (vm: string, opts: { force?: boolean }) => {
      if (!opts.force) throw new XrayError('invalid-argument', `Clearing removes every rule of VM "${vm}"; pass --force to go ahead.`);
      await withApi(async (api) => {
        await api.call('firewall.clear', { vm });
        out.line(`Cleared the rules of VM "${vm}".`);
      });
    });
  fw.command('log')
    .argument('<vm>')
    .option('-n, --limit <n>', 'how many entries', (v) => Number.parseInt(v, 10), 50)
    .option('--json', 'print JSON')
    .action(async (vm: string, opts: { limit: number; json?: boolean }) =>
      withApi(async (api) => {
        const entries = await api.call('firewall.log', { vm, limit: opts.limit });
        if (opts.json) return out.json(entries);
        if (entries.length === 0) return out.line(`VM "${vm}" has made no connections or DNS lookups that Xray logged yet.`);
        for (const e of entries) {
          const d = e.destination;
          const where = `${d.name ?? d.ip}:${d.port}`;
          if (e.kind === 'dns') out.line(`${e.at}  dns         ${d.name} → ${(e.addresses ?? []).join(', ')}`);
          else if (e.kind === 'decision') out.line(`${e.at}  ${(e.action ?? '').padEnd(10)}  ${where}  ${out.dim(e.reason ?? '')}`);
          else out.line(`${e.at}  connection  ${where}  ↑${e.bytesUp ?? 0} B ↓${e.bytesDown ?? 0} B ${e.durationMs ?? 0} ms`);
        }
      }),
    );
  fw.command('prompts')
    .description('pending prompts, with the ids "xray firewall answer" takes')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) =>
      withApi(async (api) => {
        const prompts = await api.call('prompt.list', {});
        if (opts.json) return out.json(prompts);
        if (prompts.length === 0) return out.line('No prompts are waiting.');
        for (const p of prompts) out.line(describePrompt(p));
      }),
    );
  fw.command('answer')
    .argument('<id>')
    .argument('<allow|deny>')
    .addOption(new Option('--scope <scope>', 'what the answer covers').choices(['host-port', 'domain', 'domain-suffix', 'any-port']).default('host-port'))
    .option('--once', 'this connection only (the default)')
    .option('--for <duration>', 'for a while: 30m, 1h, 2d')
    .option('--until-stop', 'until the VM stops')
    .option('--forever', 'saved in vm.toml')
    .action(async (id: string, action: string, opts: LifetimeOptions & { scope: PromptScope }) => {
      if (action !== 'allow' && action !== 'deny') throw new XrayError('invalid-argument', `"${action}" is neither allow nor deny.`);
      const life = lifetimeFrom(opts, 'once');
      await withApi(async (api) => {
        await api.call('prompt.answer', { id, action, scope: opts.scope, lifetime: life.lifetime, durationSeconds: life.durationSeconds });
        out.line(`Answered prompt ${id}: ${action}.`);
      });
    });
  fw.command('watch')
    .description('show decisions live and answer prompts here: a = allow once, A = allow forever, d = deny once, D = deny forever')
    .action(async () => {
      const api = await ctx.supervisor();
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
        }
      });
      show();
      const rl = createInterface({ input: ctx.term.stdin });
      rl.on('line', (line) => {
        const head = queue[0];
        const key = line.trim();
        if (!head || !['a', 'A', 'd', 'D'].includes(key)) return;
        const action = key.toLowerCase() === 'a' ? 'allow' : 'deny';
        const lifetime = key === key.toUpperCase() ? 'forever' : 'once';
        void api.call('prompt.answer', { id: head.id, action, lifetime, scope: 'host-port' }).catch((err: Error) => out.error(err.message));
      });
      await new Promise<void>((resolve) => {
        const release = ctx.onInterrupt(() => {
          release();
          resolve();
        });
        rl.on('close', () => {
          release();
          resolve();
        });
      });
      stop();
      rl.close();
      (api as { close?: () => void }).close?.();
    });
}

// Runs in: plain Node (CLI). `xray firewall export|import`: a VM's lasting
// rules and secret bindings as a policy file a project keeps beside its code.
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { XrayError } from '../../shared/errors';
import { describePolicyDiff, policyDiffEmpty, policyDiffSummary, type PolicyImport } from '../../shared/policy';
import { withConnection, type CliContext } from '../context';
import { arg, valueOption } from '../declare';
import { confirm, isInteractive } from '../interact';

export interface FirewallExportOptions {
  readonly vm: string;
  readonly output?: string;
}

/** runFirewallExport writes a VM's policy to a file, or to stdout for a pipe. */
export async function runFirewallExport(ctx: CliContext, opts: FirewallExportOptions): Promise<void> {
  const exported = await withConnection(ctx, 'files', (api) => api.call('firewall.export', { vm: opts.vm }));
  if (opts.output === undefined) {
    ctx.out.stdout.write(exported.text);
    return;
  }
  try {
    await writeFile(opts.output, exported.text);
  } catch (err) {
    throw new XrayError('invalid-argument', `Cannot write "${opts.output}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); choose another file.`);
  }
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  ctx.out.line(`Wrote the policy of VM "${opts.vm}" to ${opts.output}: ${count(exported.rules, 'rule')} and ${count(exported.bindings, 'secret binding')}.`);
}

export interface FirewallImportOptions {
  readonly vm: string;
  readonly file: string;
  readonly yes?: boolean;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/**
 * runFirewallImport shows what a policy file would change, then applies it
 * once the person agrees at a terminal (or `--yes` says so). Without a
 * terminal and without --yes it refuses: a script changes a VM's firewall
 * only when it says so.
 */
export async function runFirewallImport(ctx: CliContext, opts: FirewallImportOptions): Promise<void> {
  const { out } = ctx;
  const { vm } = opts;
  const text = await readPolicyFile(opts.file);
  const file = basename(opts.file);
  await withConnection(ctx, 'files', async (api) => {
    const planned = await api.call('firewall.import', { vm, text, file, dryRun: true });
    if (!opts.json) showPlan(ctx, vm, file, planned);
    if (opts.dryRun || policyDiffEmpty(planned.diff)) {
      if (opts.json) out.json(planned);
      return;
    }
    if (!opts.yes) {
      if (!isInteractive(ctx.term)) {
        throw new XrayError('invalid-argument', `Not applying ${file} to VM "${vm}" without a terminal to confirm on; pass --yes to apply it, or --dry-run to only see the changes.`);
      }
      if (!(await confirm(ctx.term, `Apply these changes to VM "${vm}"?`))) throw new XrayError('cancelled', 'Nothing was changed.');
    }
    const done = await api.call('firewall.import', { vm, text, file });
    if (opts.json) return out.json(done);
    out.line(`Applied ${file} to VM "${vm}": ${policyDiffSummary(done.diff)}.`);
  });
}

/** showPlan prints what a policy would change, and the command that sets each secret it needs that is missing. */
function showPlan(ctx: CliContext, vm: string, file: string, plan: PolicyImport): void {
  const { out } = ctx;
  for (const secret of plan.missingSecrets) {
    out.warn(`secret "${secret}" is not set on this computer, so requests that need it will fail; set it with "xray secret set ${secret}".`);
  }
  if (policyDiffEmpty(plan.diff)) return out.line(`VM "${vm}" already follows ${file}; nothing to change.`);
  out.line(`${file} would change VM "${vm}":`);
  for (const line of describePolicyDiff(plan.diff)) {
    const mark = line.trimStart()[0];
    out.line(mark === '+' ? out.tint(line, 'green') : mark === '-' ? out.tint(line, 'red') : mark === '~' ? out.tint(line, 'yellow') : line);
  }
}

async function readPolicyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new XrayError('not-found', `There is no policy file "${path}"; write one with "xray firewall export VM --output ${path}".`);
    throw new XrayError('invalid-argument', `Cannot read policy file "${path}" (${code ?? (err as Error).message}).`);
  }
}

/** registerPolicyCommands adds export and import to the `firewall` group. */
export function registerPolicyCommands(fw: Command, ctx: CliContext): void {
  fw.command('export')
    .description('write a VM\'s lasting rules and secret bindings (never values) as a TOML policy')
    .addArgument(arg('<vm>', 'vm'))
    .addOption(valueOption('-o, --output <file>', 'write to this file instead of stdout', 'file'))
    .action((vm: string, opts: { output?: string }) => runFirewallExport(ctx, { ...opts, vm }));
  fw.command('import')
    .description('make a VM follow a policy file: shows the changes, then asks (or --yes)')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<file>', 'file'))
    .option('-y, --yes', 'apply without asking')
    .option('--dry-run', 'only show what would change')
    .option('--json', 'print the changes as JSON')
    .action((vm: string, file: string, opts: { yes?: boolean; dryRun?: boolean; json?: boolean }) => runFirewallImport(ctx, { ...opts, vm, file }));
}

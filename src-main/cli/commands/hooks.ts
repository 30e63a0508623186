// Runs in: plain Node (CLI). `xray hooks …`: scripts run at create, first boot and every boot.
import type { Command } from 'commander';
import type { HookType } from '../../shared/enums';
import { HOOK_TYPES } from '../../shared/words';
import { XrayError } from '../../shared/errors';
import type { HookRun } from '../../shared/models';
import { ExitCode, withConnection, type CliContext } from '../context';
import { arg } from '../declare';

function hookType(value: string): HookType {
  if ((HOOK_TYPES as readonly string[]).includes(value)) return value as HookType;
  throw new XrayError('invalid-argument', `"${value}" is not a hook type; use ${HOOK_TYPES.join(', ')}.`);
}

/** runHooksInit writes the hook directories (global, or one VM's) with a commented example. */
export async function runHooksInit(ctx: CliContext, opts: { readonly vm?: string }): Promise<void> {
  const [{ initHookScripts }, { VmStore }] = await Promise.all([import('../../core/hooks/example'), import('../../core/store/vm-config')]);
  const { path, created } = await initHookScripts(ctx.paths, new VmStore(ctx.paths), opts.vm);
  ctx.out.line(created ? `Wrote the example hook ${path}; edit it, or delete it if you do not want it to run.` : `${path} already exists; left it as it was.`);
}

/** runHooksList prints the hooks that run for a VM, in order; RISKY ones get an automatic snapshot first when those are on. */
export async function runHooksList(ctx: CliContext, opts: { readonly vm: string; readonly json?: boolean }): Promise<void> {
  const { vm } = opts;
  const list = await withConnection(ctx, 'files', (api) => api.call('hooks.list', { vm }));
  if (opts.json) return ctx.out.json(list);
  if (list.length === 0) return ctx.out.line(`VM "${vm}" has no hooks. Run "xray hooks init ${vm}" for an example.`);
  ctx.out.table(['TYPE', 'SOURCE', 'RISKY', 'HOOK'], list.map((h) => [h.type, h.source, h.risky ? 'yes' : 'no', h.script]));
}

export interface HooksRunOptions {
  readonly vm: string;
  readonly type: HookType;
  readonly json?: boolean;
}

/** runHooksRun runs a VM's hooks of one type now, streaming their output; any failure makes the exit status 1. */
export async function runHooksRun(ctx: CliContext, opts: HooksRunOptions): Promise<void> {
  const { out } = ctx;
  const { vm, type } = opts;
  const runs = await withConnection(ctx, 'files', async (api) => {
    const stop = api.subscribe((event) => {
      if (opts.json) return;
      if (event.type === 'hook.output' && event.vm === vm) out.line(`${out.dim(`${event.script}:`)} ${event.text}`);
      if (event.type === 'hook.started' && event.run.vm === vm) out.line(out.bold(`▶ ${event.run.script} (${event.run.source})`));
    });
    try {
      return await api.call('hooks.run', { vm, type });
    } finally {
      stop();
    }
  });
  if (opts.json) out.json(runs);
  else reportRuns(ctx, vm, type, runs);
  if (runs.some(failed)) throw new ExitCode(1);
}

function failed(run: HookRun): boolean {
  return run.error !== null || run.exitCode !== 0;
}

function reportRuns(ctx: CliContext, vm: string, type: HookType, runs: readonly HookRun[]): void {
  const { out } = ctx;
  if (runs.length === 0) return out.line(`VM "${vm}" has no ${type} hooks.`);
  const failures = runs.filter(failed);
  for (const run of failures) out.error(`${run.script} (${run.source}) failed: ${run.error ?? `exit code ${run.exitCode}`}`);
  out.line(`${runs.length - failures.length} of ${runs.length} ${type} hooks succeeded${failures.length > 0 ? `; see ${ctx.paths.vm(vm).hookLog}` : ''}.`);
}

/** runHooksResetInitialBoot makes the initial-boot hooks run again at the VM's next start. */
export async function runHooksResetInitialBoot(ctx: CliContext, opts: { readonly vm: string }): Promise<void> {
  await withConnection(ctx, 'files', (api) => api.call('hooks.resetInitialBoot', { vm: opts.vm }));
  ctx.out.line(`VM "${opts.vm}" will run its initial-boot hooks at its next start.`);
}

export function registerHookCommands(program: Command, ctx: CliContext): void {
  const hooks = program.command('hooks').description('hook scripts run at create, first boot and every boot');
  hooks
    .command('init')
    .description('create the hook directories (global, or for VM) with a commented example script')
    .addArgument(arg('[vm]', 'vm'))
    .action((vm: string | undefined) => runHooksInit(ctx, { vm }));
  hooks
    .command('list')
    .description('list the hooks that run for a VM, in order')
    .addArgument(arg('<vm>', 'vm'))
    .option('--json', 'print JSON')
    .action((vm: string, opts: { json?: boolean }) => runHooksList(ctx, { ...opts, vm }));
  hooks
    .command('run')
    .description("run a VM's hooks of one type now (create, initial-boot or boot)")
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('<type>', HOOK_TYPES, HOOK_TYPES.join(', ')).argParser(hookType))
    .option('--json', 'print the results as JSON')
    .action((vm: string, type: HookType, opts: { json?: boolean }) => runHooksRun(ctx, { ...opts, vm, type }));
  hooks
    .command('reset-initial-boot')
    .description("make the initial-boot hooks run again at the VM's next start")
    .addArgument(arg('<vm>', 'vm'))
    .action((vm: string) => runHooksResetInitialBoot(ctx, { vm }));
}

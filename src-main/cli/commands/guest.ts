// Runs in: plain Node (CLI).
import { spawn } from 'node:child_process';
import { Command, CommanderError } from 'commander';
import type { HookRun } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { initHookScripts } from '../../core/hooks/example';
import { HOOK_TYPES, type HookType } from '../../shared/enums';
import { vmSshTarget, type SshTarget } from '../../core/ssh/connect';
import { forgetHostKey } from '../../core/ssh/known-hosts';
import { SettingsStore } from '../../core/store/settings';
import { VmStore } from '../../core/store/vm-config';
import type { CliContext } from '../program';

/**
 * guest holds the commands that reach into a VM: `ssh`, `ssh-config`,
 * `ssh-forget`, `hooks` and `plugin`. SSH details come straight from the VM's files, so
 * they work without a supervisor; hooks go through the service API.
 */

/**
 * EXIT_CODE_PASSTHROUGH marks a CommanderError whose exitCode is the process's
 * exit code (the code `ssh` exited with), rather than a generic failure.
 */
export const EXIT_CODE_PASSTHROUGH = 'xray.exitCode';

export interface GuestCommandDeps {
  /** runSsh runs the system ssh with `args` on this terminal and resolves with its exit code (for testing). */
  readonly runSsh?: (args: readonly string[]) => Promise<number>;
}

/** sshArgs builds the OpenSSH command line for a VM: its key only, its pinned host key, checked. */
export function sshArgs(target: SshTarget, knownHosts: string, command: readonly string[]): string[] {
  return [
    '-i', target.keyPath,
    '-p', String(target.port),
    '-o', `UserKnownHostsFile=${knownHosts}`,
    '-o', 'StrictHostKeyChecking=accept-new',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'LogLevel=ERROR',
    `${target.user}@${target.host}`,
    ...command,
  ];
}

/** sshConfigBlock renders a ~/.ssh/config entry, so `ssh xray-NAME`, scp and editors' remote modes reach the VM. */
export function sshConfigBlock(vm: string, target: SshTarget, knownHosts: string): string {
  return [
    `Host xray-${vm}`,
    `  HostName ${target.host}`,
    `  Port ${target.port}`,
    `  User ${target.user}`,
    `  IdentityFile ${quote(target.keyPath)}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${quote(knownHosts)}`,
    '  StrictHostKeyChecking accept-new',
    '',
  ].join('\n');
}

function quote(path: string): string {
  return /\s/.test(path) ? `"${path}"` : path;
}

function runSystemSsh(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', [...args], { stdio: 'inherit' });
    child.once('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new XrayError('missing-dependency', 'The ssh command is not installed; install OpenSSH\'s client (openssh-client) and try again.', { cause: err }));
      } else reject(err);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 1;
}

function hookType(value: string): HookType {
  if ((HOOK_TYPES as readonly string[]).includes(value)) return value as HookType;
  throw new XrayError('invalid-argument', `"${value}" is not a hook type; use ${HOOK_TYPES.join(', ')}.`);
}

export function registerGuestCommands(program: Command, ctx: CliContext, deps: GuestCommandDeps = {}): void {
  const { out } = ctx;
  const runSsh = deps.runSsh ?? runSystemSsh;
  const store = new VmStore(ctx.paths);
  const settings = new SettingsStore(ctx.paths);
  const target = (vm: string): Promise<SshTarget> => vmSshTarget(ctx.paths, vm, { store, settings });
  const withApi = async <T>(use: (api: Awaited<ReturnType<CliContext['api']>>) => Promise<T>): Promise<T> => {
    const api = await ctx.api();
    try {
      return await use(api);
    } finally {
      api.close?.();
    }
  };

  program
    .command('ssh')
    .description('open a shell in a VM, or run COMMAND there (put it after --)')
    .argument('<vm>')
    .argument('[command...]', 'command to run in the guest')
    .action(async (vm: string, command: string[]) => {
      const code = await runSsh(sshArgs(await target(vm), ctx.paths.vm(vm).knownHosts, command));
      if (code !== 0) throw new CommanderError(code, EXIT_CODE_PASSTHROUGH, '');
    });

  program
    .command('ssh-config')
    .description('print a ~/.ssh/config block for a VM (Host xray-NAME)')
    .argument('<vm>')
    .action(async (vm: string) => {
      out.stdout.write(sshConfigBlock(vm, await target(vm), ctx.paths.vm(vm).knownHosts));
    });

  program
    .command('ssh-forget')
    .description('forget the SSH host key pinned for a VM (after rebuilding it)')
    .argument('<vm>')
    .action(async (vm: string) => {
      const cfg = await store.read(vm);
      const removed = await forgetHostKey(ctx.paths.vm(vm).knownHosts, '127.0.0.1', cfg.sshPort);
      if (removed === 0) out.line(`No SSH host key was pinned for VM "${vm}".`);
      else out.line(`Forgot the SSH host key of VM "${vm}"; the next connection pins the key the guest then shows.`);
    });

  const hooks = program.command('hooks').description('hook scripts run at create, first boot and every boot');
  hooks
    .command('init')
    .description('create the hook directories (global, or for VM) with a commented example script')
    .argument('[vm]')
    .action(async (vm: string | undefined) => {
      const { path, created } = await initHookScripts(ctx.paths, store, vm);
      out.line(created ? `Wrote the example hook ${path}; edit it, or delete it if you do not want it to run.` : `${path} already exists; left it as it was.`);
    });
  hooks
    .command('list')
    .description('list the hooks that run for a VM, in order')
    .argument('<vm>')
    .option('--json', 'print JSON')
    .action(async (vm: string, opts: { json?: boolean }) => {
      const list = await withApi((api) => api.call('hooks.list', { vm }));
      if (opts.json) return out.json(list);
      if (list.length === 0) return out.line(`VM "${vm}" has no hooks. Run "xray hooks init ${vm}" for an example.`);
      out.table(['TYPE', 'SOURCE', 'HOOK'], list.map((h) => [h.type, h.source, h.script]));
    });
  hooks
    .command('run')
    .description('run a VM\'s hooks of one type now (create, initial-boot or boot)')
    .argument('<vm>')
    .argument('<type>', HOOK_TYPES.join(', '), hookType)
    .option('--json', 'print the results as JSON')
    .action(async (vm: string, type: HookType, opts: { json?: boolean }) => {
      const runs = await withApi(async (api) => {
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
      if (runs.some((r) => r.error !== null || r.exitCode !== 0)) throw new CommanderError(1, EXIT_CODE_PASSTHROUGH, '');
    });
  hooks
    .command('reset-initial-boot')
    .description('make the initial-boot hooks run again at the VM\'s next start')
    .argument('<vm>')
    .action(async (vm: string) => {
      await withApi((api) => api.call('hooks.resetInitialBoot', { vm }));
      out.line(`VM "${vm}" will run its initial-boot hooks at its next start.`);
    });

  const plugin = program.command('plugin').description('plugins in XRAY_HOME/plugins: list them, run their commands');
  plugin
    .command('list')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const plugins = await withApi((api) => api.call('plugin.list', {}));
      if (opts.json) return out.json(plugins);
      if (plugins.length === 0) return out.line(`No plugins. Put .js or .mjs files in ${ctx.paths.pluginsDir}.`);
      for (const p of plugins) {
        if (p.error) {
          out.line(`${out.bold(p.name)}  ${out.tint('failed to load', 'red')}: ${p.error}`);
          continue;
        }
        out.line(`${out.bold(p.name)}${p.hooks.length > 0 ? `  hooks: ${p.hooks.join(', ')}` : ''}`);
        for (const c of p.commands) out.line(`  ${c.name}  ${out.dim(c.description)}`);
      }
    });
  plugin
    .command('run')
    .description('run a plugin command (put options for it after --)')
    .argument('<plugin>')
    .argument('<command>')
    .argument('[args...]')
    .action(async (name: string, command: string, args: string[]) => {
      const { output } = await withApi((api) => api.call('plugin.run', { plugin: name, command, args }));
      out.stdout.write(output);
    });
}

function reportRuns(ctx: CliContext, vm: string, type: HookType, runs: readonly HookRun[]): void {
  const { out } = ctx;
  if (runs.length === 0) return out.line(`VM "${vm}" has no ${type} hooks.`);
  const failed = runs.filter((r) => r.error !== null || r.exitCode !== 0);
  for (const run of failed) out.error(`${run.script} (${run.source}) failed: ${run.error ?? `exit code ${run.exitCode}`}`);
  out.line(`${runs.length - failed.length} of ${runs.length} ${type} hooks succeeded${failed.length > 0 ? `; see ${ctx.paths.vm(vm).hookLog}` : ''}.`);
}

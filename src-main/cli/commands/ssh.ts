// Runs in: plain Node (CLI). `xray ssh`, `ssh-config` and `ssh-forget`: SSH
// details come straight from the VM's files, so no supervisor is needed.
import type { Command } from 'commander';
import { XrayError } from '../../shared/errors';
import { isActive } from '../../shared/vm';
import type { SshTarget } from '../../core/ssh/connect';
import { ExitCode, withConnection, type CliContext } from '../context';
import { arg } from '../declare';

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

/** sshTarget reads how to log in to a VM from its files (the store modules load only when asked). */
async function sshTarget(ctx: CliContext, vm: string): Promise<SshTarget> {
  const [{ vmSshTarget }, { VmStore }, { SettingsStore }] = await Promise.all([
    import('../../core/ssh/connect'),
    import('../../core/store/vm-store'),
    import('../../core/store/settings'),
  ]);
  return vmSshTarget(ctx.paths, vm, { store: new VmStore(ctx.paths), settings: new SettingsStore(ctx.paths) });
}

export interface SshOptions {
  readonly vm: string;
  readonly command: readonly string[];
}

/**
 * runSsh opens a shell in a running VM, or runs a command there, and ends
 * with ssh's exit status. A VM that is not running is refused with what to
 * do, rather than with ssh's "Connection refused".
 */
export async function runSsh(ctx: CliContext, opts: SshOptions): Promise<void> {
  const { vm } = opts;
  const summary = await withConnection(ctx, 'files', async (api) => (await api.call('vm.list', {})).find((v) => v.name === vm));
  if (summary && !isActive(summary.state)) {
    throw new XrayError('invalid-argument', `VM "${vm}" is not running; start it with "xray start ${vm} --wait", then try again.`);
  }
  const code = await ctx.runSsh(sshArgs(await sshTarget(ctx, vm), ctx.paths.vm(vm).knownHosts, opts.command));
  if (code !== 0) throw new ExitCode(code);
}

/** runSshConfig prints a ~/.ssh/config block for a VM. */
export async function runSshConfig(ctx: CliContext, opts: { readonly vm: string }): Promise<void> {
  ctx.out.stdout.write(sshConfigBlock(opts.vm, await sshTarget(ctx, opts.vm), ctx.paths.vm(opts.vm).knownHosts));
}

/** runSshForget forgets the host key pinned for a VM, so a rebuilt guest's new key is accepted. */
export async function runSshForget(ctx: CliContext, opts: { readonly vm: string }): Promise<void> {
  const { vm } = opts;
  const [{ VmStore }, { forgetHostKey }] = await Promise.all([import('../../core/store/vm-store'), import('../../core/ssh/known-hosts')]);
  const config = await new VmStore(ctx.paths).read(vm);
  const removed = await forgetHostKey(ctx.paths.vm(vm).knownHosts, '127.0.0.1', config.sshPort);
  if (removed === 0) ctx.out.line(`No SSH host key was pinned for VM "${vm}".`);
  else ctx.out.line(`Forgot the SSH host key of VM "${vm}"; the next connection pins the key the guest then shows.`);
}

export function registerSshCommands(program: Command, ctx: CliContext): void {
  program
    .command('ssh')
    .description('open a shell in a VM, or run COMMAND there (put it after --)')
    .addArgument(arg('<vm>', 'vm'))
    .addArgument(arg('[command...]', 'nothing', 'command to run in the guest'))
    .action((vm: string, command: string[]) => runSsh(ctx, { vm, command }));

  program
    .command('ssh-config')
    .description('print a ~/.ssh/config block for a VM (Host xray-NAME)')
    .addArgument(arg('<vm>', 'vm'))
    .action((vm: string) => runSshConfig(ctx, { vm }));

  program
    .command('ssh-forget')
    .description('forget the SSH host key pinned for a VM (after rebuilding it)')
    .addArgument(arg('<vm>', 'vm'))
    .action((vm: string) => runSshForget(ctx, { vm }));
}

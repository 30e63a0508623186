// Runs in: plain Node (CLI). The VM commands: create, list, info, remove,
// start and stop.
import { Option, type Command } from 'commander';
import type { Params, XrayApi } from '../../shared/contract';
import type { Display } from '../../shared/enums';
import { DISPLAYS } from '../../shared/words';
import { XrayError } from '../../shared/errors';
import { formatBytes } from '../../shared/format';
import { VM_LIMITS, VM_PREFERRED, formatPortMapping, requirePortMapping, stateLabel, stopSentence } from '../../shared/vm';
import { withConnection, type CliContext } from '../context';
import { arg, boundedInt, collect, valueOption } from '../declare';
import { confirmOrForce, isInteractive, pick } from '../interact';
import { describeEvent, waitForState } from './events';
import { autoSnapshotsText } from './set';
import { printSnapshots } from './snapshot';
import { stateText } from './vm-text';

/** WINDOWED_DISPLAYS are the --display backends that open a window (`none` is the default). */
const WINDOWED_DISPLAYS = DISPLAYS.filter((d) => d !== 'none');

export interface CreateOptions {
  readonly name: string;
  readonly base?: string;
  readonly memory?: number;
  readonly cpus?: number;
  readonly sshUser?: string;
  readonly port: readonly string[];
  readonly cloudInit?: boolean;
  readonly start?: boolean;
  readonly json?: boolean;
}

/** runCreate creates a VM, asking for its base on a terminal when none is given. */
export async function runCreate(ctx: CliContext, opts: CreateOptions): Promise<void> {
  const ports = opts.port.map(requirePortMapping);
  let vm = await withConnection(ctx, 'files', async (api) => {
    const base = opts.base ?? (await pickBase(ctx, api));
    return api.call('vm.create', { name: opts.name, base, memoryMb: opts.memory, cpus: opts.cpus, sshUser: opts.sshUser, ports, cloudInit: opts.cloudInit });
  });
  if (opts.start) vm = await withConnection(ctx, 'supervisor', (api) => api.call('vm.start', { name: opts.name }));
  if (opts.json) ctx.out.json(vm);
  else ctx.out.line(`Created VM "${vm.name}" on base "${vm.base}" (SSH on 127.0.0.1:${vm.sshPort}).`);
}

async function pickBase(ctx: CliContext, api: XrayApi): Promise<string> {
  const bases = await api.call('base.list', {});
  if (!isInteractive(ctx.term)) throw new XrayError('invalid-argument', 'No base image given; pass --base NAME (see "xray base list").');
  if (bases.length === 0) throw new XrayError('not-found', 'There are no base images yet; import one with "xray base import PATH".');
  return pick(ctx.term, 'Which base image should the VM use?', bases.map((b) => b.name));
}

export interface ListOptions {
  readonly json?: boolean;
}

/** runList prints every VM with its state and resources; a VM whose vm.toml is broken still lists. */
export async function runList(ctx: CliContext, opts: ListOptions): Promise<void> {
  const { out } = ctx;
  const vms = await withConnection(ctx, 'files', (api) => api.call('vm.list', {}));
  if (opts.json) return out.json(vms);
  if (vms.length === 0) return out.line('No VMs yet. Import a base with "xray base import PATH", then "xray create NAME --base BASE".');
  out.table(
    ['NAME', 'STATUS', 'BASE', 'MEMORY', 'CPUS', 'SSH', 'PORTS'],
    vms.map((vm) => {
      const known = vm.configError === null;
      return [vm.name, stateText(out, vm), vm.base, known ? `${vm.memoryMb} MB` : '', known ? String(vm.cpus) : '', known ? String(vm.sshPort) : '', vm.ports.map(formatPortMapping).join(', ')];
    }),
  );
  for (const problem of vms.map((vm) => vm.configError ?? vm.diagnosis?.message)) if (problem) out.warn(problem);
}

export interface InfoOptions {
  readonly name: string;
  readonly json?: boolean;
}

/** runInfo prints one VM's settings, disk chain and snapshots. */
export async function runInfo(ctx: CliContext, opts: InfoOptions): Promise<void> {
  const { out } = ctx;
  const info = await withConnection(ctx, 'files', (api) => api.call('vm.info', { name: opts.name }));
  if (opts.json) return out.json(info);
  const s = info.summary;
  out.line(`${out.bold(s.name)}  ${stateText(out, s)}`);
  out.line(`  base        ${s.base} (${s.arch})`);
  out.line(`  memory      ${s.memoryMb} MB`);
  out.line(`  cpus        ${s.cpus}`);
  out.line(`  ssh         ${s.sshUser}@127.0.0.1 -p ${s.sshPort}`);
  out.line(`  ports       ${s.ports.map(formatPortMapping).join(', ') || 'none'}`);
  out.line(`  auto snaps  ${autoSnapshotsText(info.autoSnapshots)}`);
  if (s.diagnosis) out.line(`  problem     ${out.tint(s.diagnosis.message, 'red')}`);
  out.line('  disk chain');
  for (const disk of info.diskChain) {
    out.line(`    ${disk.filename} (${disk.format}, ${formatBytes(disk.virtualSize)} virtual, ${formatBytes(disk.actualSize)} used)`);
  }
  out.line(`  snapshots   ${info.snapshots.length === 0 ? 'none' : ''}`.trimEnd());
  if (info.snapshots.length > 0) printSnapshots(out, info.snapshots, '    ');
}

export interface RemoveOptions {
  readonly name: string;
  readonly force?: boolean;
}

/** runRemove deletes a VM and its disk once the person agrees (or --force says so). */
export async function runRemove(ctx: CliContext, opts: RemoveOptions): Promise<void> {
  await confirmOrForce(ctx.term, opts.force, `Delete VM "${opts.name}" and its disk? This cannot be undone.`);
  await withConnection(ctx, 'files', (api) => api.call('vm.remove', { name: opts.name, force: opts.force }));
  ctx.out.line(`Removed VM "${opts.name}".`);
}

export interface StartOptions {
  readonly name: string;
  readonly hooks: boolean;
  readonly allowAll?: boolean;
  readonly learn?: boolean;
  readonly display?: Display;
  readonly snapshot?: string;
  readonly wait?: boolean;
  readonly foreground?: boolean;
  readonly json?: boolean;
}

/**
 * runStart starts a VM through the supervisor (started in the background when
 * none runs). The supervisor's warnings about this start, such as falling back
 * to slow emulation, go to stderr: otherwise they would reach only daemon.log.
 */
export async function runStart(ctx: CliContext, opts: StartOptions): Promise<void> {
  const { out } = ctx;
  const { name } = opts;
  const params: Params<'vm.start'> = { name, noHooks: !opts.hooks, allowAll: opts.allowAll, learn: opts.learn, display: opts.display, fromSnapshot: opts.snapshot };
  if (opts.foreground) return runForeground(ctx, name, params);
  await withConnection(ctx, 'supervisor', async (api) => {
    const warnings = api.subscribe((event) => {
      if (event.type === 'log' && (event.source === 'qemu' || event.source === 'start') && event.level === 'warn') out.warn(event.message);
    });
    const ready = opts.wait ? waitForState(api, name, ['ready']) : null;
    try {
      let vm = await api.call('vm.start', params);
      if (ready && vm.state !== 'ready') await (vm.diagnosis ? Promise.reject(new XrayError('timeout', vm.diagnosis.message)) : ready.done);
      if (opts.wait) vm = (await api.call('vm.info', { name })).summary;
      if (opts.json) out.json(vm);
      else out.line(`VM "${name}" is ${stateLabel(vm.state)}; SSH on 127.0.0.1:${vm.sshPort}.`);
      if (opts.learn && !opts.json) out.line(`Learning: what it reaches is allowed and recorded until it stops; review it with "xray firewall learned ${name}".`);
    } finally {
      ready?.cancel();
      warnings();
    }
  });
}

/**
 * runForeground starts a VM and stays until it stops, as the original tool
 * did: Ctrl-C powers the VM off. It hosts the supervisor itself unless one runs.
 */
async function runForeground(ctx: CliContext, name: string, params: Params<'vm.start'>): Promise<void> {
  const { out } = ctx;
  const host = await ctx.hostHere().catch((err: unknown) => {
    if (err instanceof XrayError && err.code === 'busy') return null;
    throw err;
  });
  const run = async (api: XrayApi) => {
    const stopped = waitForState(api, name, ['stopped', 'crashed']);
    const logs = api.subscribe((event) => {
      if (('vm' in event && event.vm === name) || event.type === 'log' || event.type.startsWith('prompt.')) out.line(describeEvent(event));
    });
    const release = ctx.onInterrupt(() => {
      out.line(`Stopping VM "${name}"…`);
      void api.call('vm.stop', { name }).catch((err: Error) => out.error(err.message));
    });
    try {
      const vm = await api.call('vm.start', params);
      out.line(`VM "${name}" started; SSH on 127.0.0.1:${vm.sshPort}. Press Ctrl-C to stop it.`);
      await stopped.done.catch(() => undefined);
    } finally {
      release();
      logs();
      stopped.cancel();
    }
  };
  if (!host) return withConnection(ctx, 'supervisor', run);
  try {
    await run(host.service);
  } finally {
    await host.close();
  }
}

export interface StopOptions {
  readonly name: string;
  readonly force?: boolean;
  readonly json?: boolean;
}

/** runStop powers a VM off; a VM that is not running is reported stopped without starting a supervisor. */
export async function runStop(ctx: CliContext, opts: StopOptions): Promise<void> {
  const vm = await withConnection(ctx, { vm: opts.name }, (api) => api.call('vm.stop', { name: opts.name, force: opts.force }));
  if (opts.json) ctx.out.json(vm);
  else ctx.out.line(stopSentence(opts.name, vm.stoppedBy, opts.force));
}

export function registerVmCommands(program: Command, ctx: CliContext): void {
  program
    .command('create')
    .description('create a VM as a copy-on-write overlay of a base image')
    .addArgument(arg('<name>', 'nothing', 'name of the new VM'))
    .addOption(valueOption('--base <base>', 'base image to build on (asks on a terminal when omitted)', 'base'))
    .option('--memory <mb>', `memory in MB (default: up to ${VM_PREFERRED.memoryMb}, half of this computer's)`, boundedInt('--memory', VM_LIMITS.memoryMb))
    .option('--cpus <n>', `virtual CPUs (default: up to ${VM_PREFERRED.cpus}, no more than this computer has)`, boundedInt('--cpus', VM_LIMITS.cpus))
    .option('--ssh-user <user>', 'user Xray logs in as (default ubuntu)')
    .option('--port <host:guest>', "forward 127.0.0.1:HOST to the guest's GUEST port (repeatable)", collect, [])
    .option('--cloud-init', "give the VM a cloud-init seed even if its base says it has no cloud-init")
    .option('--no-cloud-init', 'give the VM no cloud-init seed (default: what its base says)')
    .option('--start', 'start the VM after creating it')
    .option('--no-start', 'do not start the VM (the default)')
    .option('--json', 'print the new VM as JSON')
    .action((name: string, opts: Omit<CreateOptions, 'name'>) => runCreate(ctx, { ...opts, name }));

  program
    .command('list')
    .alias('ls')
    .description('list VMs')
    .option('--json', 'print JSON')
    .action((opts: ListOptions) => runList(ctx, opts));

  program
    .command('info')
    .description("show a VM's configuration, disk chain and snapshots")
    .addArgument(arg('<name>', 'vm'))
    .option('--json', 'print JSON')
    .action((name: string, opts: Omit<InfoOptions, 'name'>) => runInfo(ctx, { ...opts, name }));

  program
    .command('remove')
    .alias('rm')
    .description('delete a VM and its disk (asks first)')
    .addArgument(arg('<name>', 'vm'))
    .option('-f, --force', 'do not ask')
    .action((name: string, opts: Omit<RemoveOptions, 'name'>) => runRemove(ctx, { ...opts, name }));

  program
    .command('start')
    .description('start a VM (a background supervisor is started when none runs)')
    .addArgument(arg('<name>', 'vm'))
    .option('--no-hooks', 'skip hook scripts for this start')
    .option('--allow-all', 'allow every outbound connection for this run, without saving rules')
    .option('--learn', 'allow like --allow-all and record what is reached, to review with "xray firewall learned"')
    .addOption(new Option('--display <backend>', 'open a window').choices(WINDOWED_DISPLAYS))
    .addOption(valueOption('--snapshot <name>', 'resume from a memory snapshot', 'snapshot'))
    .option('--wait', 'wait until the guest answers on SSH, or say why it has not within boot_timeout')
    .option('--foreground', 'run in this terminal until the VM stops; Ctrl-C stops it')
    .option('--json', 'print the VM as JSON')
    .action((name: string, opts: Omit<StartOptions, 'name'>) => runStart(ctx, { ...opts, name }));

  program
    .command('stop')
    .description('power a VM off: the power button, then poweroff over SSH, then kill')
    .addArgument(arg('<name>', 'vm'))
    .option('-f, --force', 'kill QEMU at once instead of asking the guest to power off')
    .option('--json', 'print the VM as JSON')
    .action((name: string, opts: Omit<StopOptions, 'name'>) => runStop(ctx, { ...opts, name }));
}

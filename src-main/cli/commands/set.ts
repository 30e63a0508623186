// Runs in: plain Node (CLI). `xray set VM …`: change a VM's settings, with the
// flags `xray create` takes, and the VM's own automatic snapshots.
import { Option, type Command } from 'commander';
import type { Params } from '../../shared/contract';
import type { AutoSnapshotsInfo } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { VM_LIMITS } from '../../shared/vm';
import { withConnection, type CliContext } from '../context';
import { arg, boundedInt } from '../declare';

/** AUTO_SNAPSHOT_CHOICES are what --auto-snapshots takes: on, off, or back to config.toml's auto_snapshots. */
const AUTO_SNAPSHOT_CHOICES = ['on', 'off', 'default'] as const;
type AutoSnapshotChoice = (typeof AUTO_SNAPSHOT_CHOICES)[number];

export interface SetOptions {
  readonly name: string;
  readonly memory?: number;
  readonly cpus?: number;
  readonly sshUser?: string;
  readonly autoSnapshots?: AutoSnapshotChoice;
  readonly json?: boolean;
}

/**
 * runSet changes what the flags name and leaves the rest. Memory, CPUs and
 * the SSH user wait for a stopped VM (the service says so); automatic
 * snapshots may change while it runs, and count from the next moment.
 */
export async function runSet(ctx: CliContext, opts: SetOptions): Promise<void> {
  const { name } = opts;
  const params: Params<'vm.update'> = {
    name,
    memoryMb: opts.memory,
    cpus: opts.cpus,
    sshUser: opts.sshUser,
    autoSnapshots: opts.autoSnapshots === undefined ? undefined : ({ on: true, off: false, default: null } as const)[opts.autoSnapshots],
  };
  if (Object.values(params).filter((v) => v !== undefined).length === 1) {
    throw new XrayError('invalid-argument', `Nothing to change; give --memory, --cpus, --ssh-user or --auto-snapshots (see "xray set --help").`);
  }
  const { vm, auto } = await withConnection(ctx, 'files', async (api) => {
    const updated = await api.call('vm.update', params);
    return { vm: updated, auto: (await api.call('vm.info', { name })).autoSnapshots };
  });
  if (opts.json) return ctx.out.json(vm);
  const snapshots = auto.enabled ? `automatic snapshots on, keeping the newest ${auto.keep}` : 'automatic snapshots off';
  ctx.out.line(`VM "${name}": ${vm.memoryMb} MB, ${vm.cpus} CPU${vm.cpus === 1 ? '' : 's'}, SSH user ${vm.sshUser}, ${snapshots}${auto.fromDefault ? " (config.toml's auto_snapshots)" : ''}.`);
}

/** autoSnapshotsText says whether a VM takes automatic snapshots, who decided, and how many it keeps (for xray info). */
export function autoSnapshotsText(auto: AutoSnapshotsInfo): string {
  const who = auto.fromDefault ? "config.toml's auto_snapshots" : 'set for this VM';
  return auto.enabled ? `on (${who}), keeping the newest ${auto.keep}` : `off (${who})`;
}

export function registerSetCommands(program: Command, ctx: CliContext): void {
  program
    .command('set')
    .description("change a VM's settings: memory, CPUs and SSH user while it is stopped, automatic snapshots at any time")
    .addArgument(arg('<name>', 'vm'))
    .option('--memory <mb>', 'memory in MB', boundedInt('--memory', VM_LIMITS.memoryMb))
    .option('--cpus <n>', 'virtual CPUs', boundedInt('--cpus', VM_LIMITS.cpus))
    .option('--ssh-user <user>', 'user Xray logs in as')
    .addOption(
      new Option('--auto-snapshots <when>', 'snapshots after the first boot and before risky hooks: on, off, or default (config.toml\'s auto_snapshots)').choices(AUTO_SNAPSHOT_CHOICES),
    )
    .option('--json', 'print the VM as JSON')
    .action((name: string, opts: Omit<SetOptions, 'name'>) => runSet(ctx, { ...opts, name }));
}

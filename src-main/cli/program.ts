// Runs in: plain Node (CLI).
import { Command, CommanderError, Option } from 'commander';
import type { Method, Params, Results, XrayApi, XrayEvent } from '../shared/contract';
import type { BaseInfo, PortMapping, SnapshotInfo, VmSummary } from '../shared/models';
import { XrayError, errorMessage } from '../shared/errors';
import type { HomePaths } from '../core/paths';
import { requirePortMapping } from '../core/store/vm-config';
import { formatBytes } from '../shared/format';
import { formatPortMapping, stopSentence } from '../shared/vm';
import { XrayService } from '../core/service';
import type { SupervisorHost } from '../core/supervisor/host';
import { registerFirewallCommands } from './commands/firewall';
import { EXIT_CODE_PASSTHROUGH, registerGuestCommands } from './commands/guest';
import { registerUiCommands } from './commands/ui';
import { completionScript, type Shell } from './completion';
import { confirm, isInteractive, pick, ProgressBar, type Terminal } from './interact';
import { Output } from './output';

/** CliContext is what a command needs: where the home is, how to reach the API, the terminal. */
export interface CliContext {
  readonly paths: HomePaths;
  readonly out: Output;
  readonly term: Terminal;
  /** api opens the service: the running supervisor's, or a local file-only one. */
  readonly api: () => Promise<XrayApi & { close?: () => void }>;
  /** supervisor reaches the running supervisor, starting a background daemon if needed. */
  readonly supervisor: () => Promise<XrayApi & { close?: () => void }>;
  /** hostHere makes this process the supervisor (`xray daemon`, `xray start --foreground`). */
  readonly hostHere: () => Promise<SupervisorHost>;
  /** signals lets tests replace process signal handling. */
  readonly onInterrupt: (handler: () => void) => () => void;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(label: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
      throw new XrayError('invalid-argument', `${label} must be a positive whole number, not "${value}".`);
    }
    return n;
  };
}

/** buildProgram declares every sub-command; parsing happens in run(). */
export function buildProgram(ctx: CliContext): Command {
  const { out } = ctx;
  const call = async <M extends Method>(method: M, params: Params<M>): Promise<Results[M]> => {
    const api = await ctx.api();
    try {
      return await api.call(method, params);
    } finally {
      api.close?.();
    }
  };

  /**
   * apiFor reaches the API for work on one VM: a running VM needs a supervisor
   * (one is started to adopt it when none runs); a stopped one does not.
   */
  const apiFor = async (name: string): Promise<XrayApi & { close?: () => void }> => {
    const api = await ctx.api();
    const vm = (await api.call('vm.list', {})).find((v) => v.name === name);
    if (!vm || vm.state === 'stopped' || vm.state === 'crashed' || !(api instanceof XrayService)) return api;
    return ctx.supervisor();
  };
  const callFor = async <M extends Method>(name: string, method: M, params: Params<M>): Promise<Results[M]> => {
    const api = await apiFor(name);
    try {
      return await api.call(method, params);
    } finally {
      api.close?.();
    }
  };

  const program = new Command('xray')
    .description('Disposable, firewalled Linux VMs: create, run, snapshot and guard them.')
    .version('0.1.0')
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (s) => out.stdout.write(s),
      writeErr: (s) => out.stderr.write(s),
      outputError: (s) => out.error(s.replace(/^error: /, '').trim()),
    })
    .exitOverride();

  program
    .command('create')
    .description('create a VM as a copy-on-write overlay of a base image')
    .argument('<name>', 'name of the new VM')
    .option('--base <base>', 'base image to build on (asks on a terminal when omitted)')
    .option('--memory <mb>', 'memory in MB (default: up to 4096, half of this computer\'s)', positiveInt('--memory'))
    .option('--cpus <n>', 'virtual CPUs (default: up to 4, no more than this computer has)', positiveInt('--cpus'))
    .option('--ssh-user <user>', 'user Xray logs in as (default ubuntu)')
    .option('--port <host:guest>', 'forward 127.0.0.1:HOST to the guest\'s GUEST port (repeatable)', collect, [])
    .option('--start', 'start the VM after creating it')
    .option('--no-start', 'do not start the VM (the default)')
    .option('--json', 'print the new VM as JSON')
    .action(async (name: string, opts: { base?: string; memory?: number; cpus?: number; sshUser?: string; port: string[]; start?: boolean; json?: boolean }) => {
      const ports = opts.port.map(requirePortMapping);
      let base = opts.base;
      if (!base) {
        const bases = await call('base.list', {});
        if (!isInteractive(ctx.term)) {
          throw new XrayError('invalid-argument', 'No base image given; pass --base NAME (see "xray base list").');
        }
        if (bases.length === 0) {
          throw new XrayError('not-found', 'There are no base images yet; import one with "xray base import PATH".');
        }
        base = await pick(ctx.term, 'Which base image should the VM use?', bases.map((b) => b.name));
      }
      let vm = await call('vm.create', { name, base, memoryMb: opts.memory, cpus: opts.cpus, sshUser: opts.sshUser, ports });
      if (opts.start) {
        const api = await ctx.supervisor();
        try {
          vm = await api.call('vm.start', { name });
        } finally {
          api.close?.();
        }
      }
      if (opts.json) out.json(vm);
      else out.line(`Created VM "${vm.name}" on base "${vm.base}" (SSH on 127.0.0.1:${vm.sshPort}).`);
    });

  program
    .command('list')
    .alias('ls')
    .description('list VMs')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const vms = await call('vm.list', {});
      if (opts.json) return out.json(vms);
      if (vms.length === 0) return out.line('No VMs yet. Import a base with "xray base import PATH", then "xray create NAME --base BASE".');
      out.table(
        ['NAME', 'STATUS', 'BASE', 'MEMORY', 'CPUS', 'SSH', 'PORTS'],
        vms.map((vm) => [vm.name, stateText(out, vm), vm.base, vm.configError ? '' : `${vm.memoryMb} MB`, vm.configError ? '' : String(vm.cpus), vm.configError ? '' : String(vm.sshPort), vm.ports.map(formatPortMapping).join(', ')]),
      );
      for (const vm of vms) if (vm.configError) out.warn(vm.configError);
    });

  program
    .command('info')
    .description('show a VM\'s configuration, disk chain and snapshots')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const info = await call('vm.info', { name });
      if (opts.json) return out.json(info);
      const s = info.summary;
      out.line(`${out.bold(s.name)}  ${stateText(out, s)}`);
      out.line(`  base        ${s.base} (${s.arch})`);
      out.line(`  memory      ${s.memoryMb} MB`);
      out.line(`  cpus        ${s.cpus}`);
      out.line(`  ssh         ${s.sshUser}@127.0.0.1 -p ${s.sshPort}`);
      out.line(`  ports       ${s.ports.map(formatPortMapping).join(', ') || 'none'}`);
      out.line('  disk chain');
      for (const disk of info.diskChain) {
        out.line(`    ${disk.filename} (${disk.format}, ${formatBytes(disk.virtualSize)} virtual, ${formatBytes(disk.actualSize)} used)`);
      }
      out.line(`  snapshots   ${info.snapshots.length === 0 ? 'none' : ''}`);
      printSnapshots(out, info.snapshots, '    ');
    });

  program
    .command('remove')
    .alias('rm')
    .description('delete a VM and its disk (asks first)')
    .argument('<name>')
    .option('-f, --force', 'do not ask')
    .action(async (name: string, opts: { force?: boolean }) => {
      await confirmOrForce(ctx, opts.force, `Delete VM "${name}" and its disk? This cannot be undone.`);
      await call('vm.remove', { name, force: opts.force });
      out.line(`Removed VM "${name}".`);
    });

  program
    .command('start')
    .description('start a VM (a background supervisor is started when none runs)')
    .argument('<name>')
    .option('--no-hooks', 'skip hook scripts for this start')
    .option('--allow-all', 'allow every outbound connection for this run, without saving rules')
    .addOption(new Option('--display <backend>', 'open a window').choices(['cocoa', 'gtk', 'sdl']))
    .option('--snapshot <name>', 'resume from a memory snapshot')
    .option('--wait', 'wait until the guest answers on SSH')
    .option('--foreground', 'run in this terminal until the VM stops; Ctrl-C stops it')
    .option('--json', 'print the VM as JSON')
    .action(async (name: string, opts: { hooks: boolean; allowAll?: boolean; display?: 'cocoa' | 'gtk' | 'sdl'; snapshot?: string; wait?: boolean; foreground?: boolean; json?: boolean }) => {
      const params = { name, noHooks: !opts.hooks, allowAll: opts.allowAll, display: opts.display, fromSnapshot: opts.snapshot };
      if (opts.foreground) return runForeground(ctx, name, params);
      const api = await ctx.supervisor();
      try {
        const waiter = opts.wait ? waitForState(api, name, ['ready']) : null;
        let vm = await api.call('vm.start', params);
        if (waiter && vm.state !== 'ready') await waiter.done;
        waiter?.cancel();
        if (opts.wait) vm = await api.call('vm.info', { name }).then((i) => i.summary);
        if (opts.json) out.json(vm);
        else out.line(`VM "${name}" is ${vm.state === 'ready' ? 'running' : vm.state}; SSH on 127.0.0.1:${vm.sshPort}.`);
      } finally {
        api.close?.();
      }
    });

  program
    .command('stop')
    .description('power a VM off: the power button, then poweroff over SSH, then kill')
    .argument('<name>')
    .option('-f, --force', 'kill QEMU at once instead of asking the guest to power off')
    .option('--json', 'print the VM as JSON')
    .action(async (name: string, opts: { force?: boolean; json?: boolean }) => {
      const vm = await callFor(name, 'vm.stop', { name, force: opts.force });
      if (opts.json) out.json(vm);
      else out.line(stopSentence(name, vm.stoppedBy, opts.force));
    });

  program
    .command('console')
    .description('print the end of a VM\'s serial console log')
    .argument('<name>')
    .option('-n, --lines <n>', 'how many lines', positiveInt('--lines'), 50)
    .action(async (name: string, opts: { lines: number }) => {
      for (const line of await call('vm.console', { name, lines: opts.lines })) out.line(line);
    });

  program
    .command('events')
    .description('stream what happens (VM states, prompts, snapshots) until interrupted')
    .option('--json', 'one JSON object a line')
    .action(async (opts: { json?: boolean }) => {
      const api = await ctx.supervisor();
      await new Promise<void>((resolve) => {
        const stop = api.subscribe((event) => {
          if (opts.json) out.line(JSON.stringify(event));
          else out.line(describeEvent(event));
        });
        const release = ctx.onInterrupt(() => {
          stop();
          release();
          api.close?.();
          resolve();
        });
      });
    });

  program
    .command('daemon')
    .description('run the supervisor headless (the app does this itself)')
    .action(async () => {
      const host = await ctx.hostHere();
      out.line(`Xray supervisor for ${ctx.paths.root} is listening on ${ctx.paths.controlSocket} (pid ${process.pid}).`);
      host.service.subscribe((event) => out.line(`${new Date().toISOString()} ${describeEvent(event)}`));
      await new Promise<void>((resolve) => {
        const release = ctx.onInterrupt(() => {
          release();
          void (async () => {
            const running = (await host.service.call('vm.list', {})).filter((vm) => vm.pid !== null).map((vm) => `"${vm.name}"`);
            await host.close();
            out.line(
              running.length === 0
                ? 'Supervisor stopped.'
                : `Supervisor stopped; VM${running.length > 1 ? 's' : ''} ${running.join(', ')} keep${running.length > 1 ? '' : 's'} running for the next supervisor to adopt.`,
            );
            // Everything is closed; should a stray handle still hold the event loop, do not linger on its account.
            setTimeout(() => process.exit(0), 2000).unref();
            resolve();
          })();
        });
      });
    });

  const port = program.command('port').description('manage port forwards from 127.0.0.1 to a VM');
  port
    .command('list')
    .argument('<vm>')
    .option('--json', 'print JSON')
    .action(async (vm: string, opts: { json?: boolean }) => {
      const ports = await call('port.list', { vm });
      if (opts.json) return out.json(ports);
      if (ports.length === 0) return out.line(`VM "${vm}" forwards no ports.`);
      out.table(['HOST', 'GUEST'], ports.map((p) => [`127.0.0.1:${p.host}`, String(p.guest)]));
    });
  port
    .command('add')
    .argument('<vm>')
    .argument('<host:guest>')
    .action(async (vm: string, text: string) => {
      const mapping = requirePortMapping(text);
      await call('port.add', { vm, mapping });
      out.line(`VM "${vm}" now forwards 127.0.0.1:${mapping.host} to guest port ${mapping.guest} (from its next start).`);
    });
  port
    .command('remove')
    .argument('<vm>')
    .argument('<host:guest>')
    .action(async (vm: string, text: string) => {
      const mapping: PortMapping = requirePortMapping(text);
      await call('port.remove', { vm, mapping });
      out.line(`Removed ${formatPortMapping(mapping)} from VM "${vm}".`);
    });

  const base = program.command('base').description('manage base images');
  base
    .command('import')
    .description('import a qcow2 image as a base')
    .argument('<path>')
    .option('--name <name>', 'base name (default: the file name without extension)')
    .option('--link', 'symlink to the file instead of copying it')
    .addOption(new Option('--arch <arch>', 'guest architecture (default: the host\'s)').choices(['aarch64', 'x86_64']))
    .option('--convert', 'convert a raw, vmdk, vdi, vhdx or qcow image to qcow2')
    .option('--flatten', 'import a standalone copy of an image that has a backing file')
    .option('--cloud-init', 'the image runs cloud-init: give its VMs a NoCloud seed')
    .option('--json', 'print the base as JSON')
    .action(async (path: string, opts: { name?: string; link?: boolean; arch?: 'aarch64' | 'x86_64'; convert?: boolean; flatten?: boolean; cloudInit?: boolean; json?: boolean }) => {
      const api = await ctx.api();
      const bar = new ProgressBar(out.stderr, 'Importing');
      const stop = api.subscribe((event) => {
        if (event.type === 'base.progress') bar.update(event.done, event.total);
      });
      try {
        const info = await api.call('base.import', { path, name: opts.name, link: opts.link, arch: opts.arch, convert: opts.convert, flatten: opts.flatten, cloudInit: opts.cloudInit });
        bar.finish();
        if (opts.json) out.json(info);
        else out.line(`Imported base "${info.name}" (${info.arch}, ${formatBytes(info.virtualSize)} virtual${info.linked ? ', linked' : ''}).`);
      } finally {
        stop();
        api.close?.();
      }
    });
  base
    .command('list')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const bases = await call('base.list', {});
      if (opts.json) return out.json(bases);
      if (bases.length === 0) return out.line('No base images yet. Import a qcow2 image with "xray base import PATH".');
      out.table(['NAME', 'ARCH', 'VIRTUAL', 'FILE', 'KIND', 'USED BY'], bases.map((b: BaseInfo) => [b.name, b.arch, formatBytes(b.virtualSize), formatBytes(b.fileSize), b.linked ? 'linked' : 'copied', b.usedBy.join(', ') || '-']));
    });
  base
    .command('remove')
    .argument('<name>')
    .option('-f, --force', 'do not ask')
    .action(async (name: string, opts: { force?: boolean }) => {
      const found = (await call('base.list', {})).find((b) => b.name === name);
      const what = found?.linked ? 'the link to it (the linked file stays)' : 'its image file';
      await confirmOrForce(ctx, opts.force, `Delete base "${name}" and ${what}?`);
      await call('base.remove', { name });
      out.line(`Removed base "${name}".`);
    });

  const snapshot = program.command('snapshot').description('take, list, revert and delete snapshots');
  snapshot
    .command('list')
    .argument('<vm>')
    .option('--json', 'print JSON')
    .action(async (vm: string, opts: { json?: boolean }) => {
      const list = await call('snapshot.list', { vm });
      if (opts.json) return out.json(list);
      if (list.length === 0) return out.line(`VM "${vm}" has no snapshots. Take one with "xray snapshot create ${vm} NAME".`);
      printSnapshots(out, list, '');
    });
  snapshot
    .command('create')
    .argument('<vm>')
    .argument('<name>')
    .option('-m, --description <text>', 'a note kept with the snapshot')
    .option('--json', 'print the snapshot as JSON')
    .action(async (vm: string, name: string, opts: { description?: string; json?: boolean }) => {
      const snap = await callFor(vm, 'snapshot.create', { vm, name, description: opts.description });
      if (opts.json) return out.json(snap);
      out.line(`Took snapshot "${snap.name}" of VM "${vm}"${snap.hasMemory ? ' with memory' : ' (disk only)'}.`);
    });
  snapshot
    .command('revert')
    .argument('<vm>')
    .argument('<name>')
    .option('-f, --force', 'do not ask')
    .action(async (vm: string, name: string, opts: { force?: boolean }) => {
      await confirmOrForce(ctx, opts.force, `Revert VM "${vm}" to snapshot "${name}"? Changes since then are lost.`);
      await callFor(vm, 'snapshot.revert', { vm, name });
      out.line(`Reverted VM "${vm}" to snapshot "${name}".`);
    });
  snapshot
    .command('delete')
    .argument('<vm>')
    .argument('<name>')
    .option('-f, --force', 'do not ask')
    .action(async (vm: string, name: string, opts: { force?: boolean }) => {
      await confirmOrForce(ctx, opts.force, `Delete snapshot "${name}" of VM "${vm}"?`);
      await callFor(vm, 'snapshot.delete', { vm, name });
      out.line(`Deleted snapshot "${name}" of VM "${vm}".`);
    });

  const config = program.command('config').description('show and change global settings');
  config
    .command('show')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const settings = await call('config.get', {});
      if (opts.json) return out.json(settings);
      for (const [key, value] of Object.entries(settings)) out.line(`${key} = ${JSON.stringify(value)}`);
    });
  config
    .command('set')
    .argument('<key>')
    .argument('<value>')
    .action(async (key: string, value: string) => {
      await call('config.set', { key, value });
      out.line(`Set ${key}.`);
    });
  config
    .command('path')
    .description('print the path of config.toml')
    .action(() => out.line(ctx.paths.configFile));

  registerFirewallCommands(program, ctx);
  registerUiCommands(program, ctx);
  registerGuestCommands(program, ctx);

  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Command().createArgument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .action((shell: Shell) => {
      out.stdout.write(completionScript(shell, program));
    });

  program
    .command('__complete', { hidden: true })
    .argument('<what>')
    .action(async (what: string) => {
      try {
        if (what === 'vms') for (const vm of await call('vm.list', {})) out.line(vm.name);
        if (what === 'bases') for (const b of await call('base.list', {})) out.line(b.name);
      } catch {
        // Completion must never print errors into a shell prompt.
      }
    });

  return program;
}

/** waitForState resolves when a VM reaches one of `states`, and rejects if it stops first. */
function waitForState(api: XrayApi, name: string, states: readonly string[]): { done: Promise<void>; cancel: () => void } {
  let stop: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    stop = api.subscribe((event) => {
      if (event.type !== 'vm.state' || event.vm !== name) return;
      if (states.includes(event.state)) {
        stop();
        resolve();
      } else if (event.state === 'stopped' || event.state === 'crashed') {
        stop();
        reject(new XrayError('qemu', `VM "${name}" ${event.state === 'crashed' ? 'crashed' : 'stopped'} while starting${event.crash ? `: ${event.crash.stderrTail.at(-1) ?? event.crash.consoleTail.at(-1) ?? ''}` : ''}.`));
      }
    });
  });
  return { done, cancel: () => stop() };
}

/**
 * runForeground starts a VM and stays until it stops, as the original tool
 * did: Ctrl-C powers the VM off. It hosts the supervisor itself unless one runs.
 */
async function runForeground(ctx: CliContext, name: string, params: Params<'vm.start'>): Promise<void> {
  const { out } = ctx;
  let host: SupervisorHost | null = null;
  let api: XrayApi & { close?: () => void };
  try {
    host = await ctx.hostHere();
    api = host.service;
  } catch (err) {
    if (!(err instanceof XrayError && err.code === 'busy')) throw err;
    api = await ctx.supervisor();
  }
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
    if (host) await host.close();
    else api.close?.();
  }
}

function describeEvent(event: XrayEvent): string {
  switch (event.type) {
    case 'vm.state':
      return `${event.vm}: ${event.previous} → ${event.state}${event.crash ? ` (${event.crash.stderrTail.at(-1) ?? 'no message'})` : ''}`;
    case 'vm.changed':
      return `${event.vm}: changed`;
    case 'vm.removed':
      return `${event.vm}: removed`;
    case 'base.progress':
      return `base ${event.name}: ${event.total > 0 ? Math.round((event.done / event.total) * 100) : 0}%`;
    case 'base.changed':
      return 'bases changed';
    case 'snapshot.progress':
      return `${event.vm}: snapshot ${event.operation} "${event.name}" ${event.status}${event.error ? `: ${event.error}` : ''}`;
    case 'prompt.opened':
      return `${event.prompt.vm}: asks to reach ${event.prompt.destination.name ?? event.prompt.destination.ip}:${event.prompt.destination.port} (prompt ${event.prompt.id})`;
    case 'prompt.updated':
      return `${event.prompt.vm}: prompt ${event.prompt.id} updated`;
    case 'prompt.closed':
      return `${event.vm}: prompt ${event.id} ${event.action} (${event.reason})`;
    case 'firewall.decision':
      return `${event.vm}: ${event.action} ${event.destination.name ?? event.destination.ip}:${event.destination.port} (${event.reason})`;
    case 'firewall.connection':
      return `${event.entry.vm}: connection to ${event.entry.destination.name ?? event.entry.destination.ip}:${event.entry.destination.port} closed`;
    case 'firewall.status':
      return `${event.vm}: firewall ${event.active ? 'active' : 'inactive'}`;
    case 'hook.started':
      return `${event.run.vm}: hook ${event.run.script} started`;
    case 'hook.output':
      return `${event.vm}: ${event.script}: ${event.text.trimEnd()}`;
    case 'hook.finished':
      return `${event.run.vm}: hook ${event.run.script} ${event.run.exitCode === 0 ? 'succeeded' : `failed (${event.run.error ?? `exit ${event.run.exitCode}`})`}`;
    case 'log':
      return `${event.level}: ${event.source}: ${event.message}`;
  }
}

async function confirmOrForce(ctx: CliContext, force: boolean | undefined, question: string): Promise<void> {
  if (force) return;
  if (!isInteractive(ctx.term)) {
    throw new XrayError('invalid-argument', `${question.replace(/\?.*$/, '')}: not asking without a terminal; pass --force to go ahead.`);
  }
  if (!(await confirm(ctx.term, question))) throw new XrayError('cancelled', 'Nothing was changed.');
}

function stateText(out: Output, vm: VmSummary): string {
  if (vm.configError) return out.tint('broken', 'red');
  switch (vm.state) {
    case 'ready':
      return out.tint('running', 'green');
    case 'starting':
    case 'booting':
    case 'stopping':
      return out.tint(vm.state, 'yellow');
    case 'crashed':
      return out.tint('crashed', 'red');
    default:
      return 'stopped';
  }
}

function printSnapshots(out: Output, list: readonly SnapshotInfo[], indent: string): void {
  for (const snap of list) {
    const kind = snap.hasMemory ? out.tint('memory', 'cyan') : 'disk';
    const size = snap.hasMemory ? ` ${formatBytes(snap.vmStateSize)} state` : '';
    out.line(`${indent}${snap.date}  ${out.bold(snap.name)}  ${kind}${size}${snap.description ? `  ${out.dim(snap.description)}` : ''}`);
  }
}

/** run parses argv and runs the command; returns the process exit code. */
export async function run(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError && err.code === EXIT_CODE_PASSTHROUGH) return err.exitCode;
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return err.exitCode === 0 ? 0 : 1;
    }
    if (err instanceof XrayError && err.code === 'cancelled') {
      ctx.out.error(err.message);
      return 1;
    }
    ctx.out.error(errorMessage(err));
    return 1;
  }
}

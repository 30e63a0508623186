// Runs in: plain Node (CLI). `xray events` and `xray daemon`: the event
// stream, told in words, and the headless supervisor that produces it.
import type { Command } from 'commander';
import type { XrayApi, XrayEvent } from '../../shared/contract';
import { XrayError } from '../../shared/errors';
import { describeEgressReport } from '../../shared/egress';
import { timelineText } from '../../shared/format';
import { untilInterrupted, withConnection, type CliContext } from '../context';

/** describeEvent tells one event in a line. */
export function describeEvent(event: XrayEvent): string {
  switch (event.type) {
    case 'vm.state':
      return `${event.vm}: ${event.previous} → ${event.state}${event.crash ? ` (${event.crash.stderrTail.at(-1) ?? 'no message'})` : ''}`;
    case 'vm.diagnosis':
      return `${event.vm}: ${event.diagnosis.message}`;
    case 'vm.changed':
      return `${event.vm}: changed`;
    case 'vm.removed':
      return `${event.vm}: removed`;
    case 'console.output':
      return `${event.vm}: console: ${JSON.stringify(event.text)}`;
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
    case 'firewall.connections':
      return `${event.vm}: ${event.connections.length} open connection${event.connections.length === 1 ? '' : 's'}`;
    case 'firewall.status':
      return `${event.vm}: firewall ${event.active ? 'active' : 'inactive'}`;
    case 'hook.started':
      return `${event.run.vm}: hook ${event.run.script} started`;
    case 'hook.output':
      return `${event.vm}: ${event.script}: ${event.text.trimEnd()}`;
    case 'hook.finished':
      return `${event.run.vm}: hook ${event.run.script} ${event.run.exitCode === 0 ? 'succeeded' : `failed (${event.run.error ?? `exit ${event.run.exitCode}`})`}`;
    case 'egress.report':
      return describeEgressReport(event.report);
    case 'timeline.entry':
      return `${event.entry.vm}: ${timelineText(event.entry)}`;
    case 'log':
      return `${event.level}: ${event.source}: ${event.message}`;
  }
}

/**
 * waitForState resolves when a VM reaches one of `states`, and rejects if it
 * stops first, or with the diagnosis of a guest that did not let Xray log in
 * within its boot_timeout (the VM keeps running).
 */
export function waitForState(api: XrayApi, name: string, states: readonly string[]): { done: Promise<void>; cancel: () => void } {
  let stop: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    stop = api.subscribe((event) => {
      if (event.type === 'vm.diagnosis' && event.vm === name) {
        stop();
        reject(new XrayError('timeout', event.diagnosis.message));
      }
      if (event.type !== 'vm.state' || event.vm !== name) return;
      if (states.includes(event.state)) {
        stop();
        resolve();
      } else if (event.state === 'stopped' || event.state === 'crashed') {
        stop();
        const why = event.crash ? `: ${event.crash.stderrTail.at(-1) ?? event.crash.consoleTail.at(-1) ?? ''}` : '';
        reject(new XrayError('qemu', `VM "${name}" ${event.state === 'crashed' ? 'crashed' : 'stopped'} while starting${why}.`));
      }
    });
  });
  return { done, cancel: () => stop() };
}

export interface EventsOptions {
  readonly json?: boolean;
}

/** runEvents prints every event the supervisor announces until interrupted. */
export async function runEvents(ctx: CliContext, opts: EventsOptions): Promise<void> {
  await withConnection(ctx, 'supervisor', async (api) => {
    const stop = api.subscribe((event) => {
      if (opts.json) ctx.out.line(JSON.stringify(event));
      else if (event.type !== 'console.output') ctx.out.line(describeEvent(event));
    });
    await untilInterrupted(ctx);
    stop();
  });
}

/** runDaemon hosts the supervisor in this process until interrupted; running VMs outlive it. */
export async function runDaemon(ctx: CliContext): Promise<void> {
  const { out } = ctx;
  const host = await ctx.hostHere();
  out.line(`Xray supervisor for ${ctx.paths.root} is listening on ${ctx.paths.controlSocket} (pid ${process.pid}).`);
  // A VM's console has its own log (console.log), so the daemon's leaves it out.
  host.service.subscribe((event) => event.type !== 'console.output' && out.line(`${new Date().toISOString()} ${describeEvent(event)}`));
  await untilInterrupted(ctx);
  const running = (await host.service.call('vm.list', {})).filter((vm) => vm.pid !== null).map((vm) => `"${vm.name}"`);
  await host.close();
  const many = running.length > 1;
  out.line(running.length === 0 ? 'Supervisor stopped.' : `Supervisor stopped; VM${many ? 's' : ''} ${running.join(', ')} keep${many ? '' : 's'} running for the next supervisor to adopt.`);
  // Everything is closed; should a stray handle still hold the event loop, do not linger on its account.
  setTimeout(() => process.exit(0), 2000).unref();
}

export function registerEventCommands(program: Command, ctx: CliContext): void {
  program
    .command('events')
    .description('stream what happens (VM states, prompts, snapshots; console output with --json) until interrupted')
    .option('--json', 'one JSON object a line')
    .action((opts: EventsOptions) => runEvents(ctx, opts));

  program
    .command('daemon')
    .description('run the supervisor headless (the app does this itself)')
    .action(() => runDaemon(ctx));
}

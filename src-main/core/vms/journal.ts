// Runs in: plain Node (core).
import type { XrayEvent } from '../../shared/contract';
import type { Destination, HttpRequestLine, TimelineEntry } from '../../shared/models';
import { programName } from '../../shared/names';
import { STOPPED_BY } from '../../shared/vm';
import type { HomePaths } from '../paths';
import { JsonLinesLog } from '../store/jsonl-log';
import { tailOf } from './logs';

/** JOURNAL_MAX_BYTES is when a VM's journal rotates; one old file is kept, so a VM's timeline is at most twice this. */
const JOURNAL_MAX_BYTES = 8 * 1024 * 1024;
/** READ_LINES bounds what a timeline read looks at in each file. */
const READ_LINES = 20_000;

/**
 * Journal is every VM's flight recorder: it turns what the service
 * announces (state changes, snapshots, firewall decisions, prompts, hook
 * runs) into timeline entries, appends them to the VM's journal.jsonl
 * (gathered and written together, off the connection path; bounded and
 * rotated) and announces each as a `timeline.entry` event for live views.
 * Each process that serves the API keeps one, so work done without a
 * supervisor (an offline snapshot by the CLI) is recorded too.
 */
export class Journal {
  private readonly logs = new Map<string, JsonLinesLog<TimelineEntry>>();
  /** opened remembers open prompts, so their closing can name the destination (and the request). */
  private readonly opened = new Map<string, { destination: Destination; request: HttpRequestLine | undefined; program: string | null }>();

  constructor(
    private readonly paths: HomePaths,
    private readonly emit: (event: XrayEvent) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** observe records what an event means for a VM's timeline; events that mean nothing there are ignored. */
  observe(event: XrayEvent): void {
    const entry = this.entryFor(event);
    if (!entry) return;
    this.logOf(entry.vm).append(entry);
    this.emit({ type: 'timeline.entry', entry });
  }

  /** read returns a VM's timeline, oldest first: entries at or after `since`, at most the newest `limit`. */
  async read(vm: string, options: { since?: string; limit?: number } = {}): Promise<TimelineEntry[]> {
    await this.logs.get(vm)?.flush();
    const file = this.paths.vm(vm).journal;
    const lines = [...(await tailOf(`${file}.1`, READ_LINES)), ...(await tailOf(file, READ_LINES))];
    const since = options.since ? Date.parse(options.since) : Number.NEGATIVE_INFINITY;
    const entries = lines.flatMap((line) => {
      try {
        const entry = JSON.parse(line) as TimelineEntry;
        return Date.parse(entry.at) >= since ? [entry] : [];
      } catch {
        return [];
      }
    });
    return entries.slice(-(options.limit ?? entries.length));
  }

  /** close writes what is gathered and lets go of the files. */
  async close(): Promise<void> {
    await Promise.all([...this.logs.values()].map((log) => log.close()));
  }

  private logOf(vm: string): JsonLinesLog<TimelineEntry> {
    let log = this.logs.get(vm);
    if (!log) {
      log = new JsonLinesLog<TimelineEntry>({ capacity: 1, file: this.paths.vm(vm).journal, maxFileBytes: JOURNAL_MAX_BYTES, keepAlive: true });
      this.logs.set(vm, log);
    }
    return log;
  }

  private entryFor(event: XrayEvent): TimelineEntry | null {
    const at = this.now().toISOString();
    switch (event.type) {
      case 'vm.state': {
        if (event.state !== 'starting' && event.state !== 'ready' && event.state !== 'stopped' && event.state !== 'crashed') return null;
        const crash = event.crash;
        const stop = event.stoppedBy ? STOPPED_BY[event.stoppedBy] : null;
        const detail = crash ? (crash.signal ? `killed by ${crash.signal}` : `exit code ${crash.exitCode ?? 'unknown'}`) : stop;
        return { at, vm: event.vm, kind: 'lifecycle', event: event.state, detail };
      }
      case 'snapshot.progress': {
        if (event.status === 'running') return null;
        const done = { create: 'created', revert: 'reverted', delete: 'deleted' } as const;
        const kind = event.status === 'failed' ? 'failed' : done[event.operation];
        return { at, vm: event.vm, kind: 'snapshot', event: kind, name: event.name, detail: event.error ?? event.description ?? null };
      }
      case 'firewall.decision':
        return { at, vm: event.vm, kind: 'network', action: event.action, destination: event.destination, reason: event.reason, rule: event.rule };
      case 'prompt.opened': {
        const program = event.prompt.guestProcess ? programName(event.prompt.guestProcess.command) : null;
        const { request } = event.prompt;
        this.opened.set(event.prompt.id, { destination: event.prompt.destination, request, program });
        return { at, vm: event.prompt.vm, kind: 'prompt', event: 'opened', id: event.prompt.id, destination: event.prompt.destination, ...(request ? { request } : {}), action: null, reason: null, program };
      }
      case 'prompt.updated':
        if (event.prompt.guestProcess) {
          const known = this.opened.get(event.prompt.id);
          if (known) known.program = programName(event.prompt.guestProcess.command);
        }
        return null;
      case 'prompt.closed': {
        const known = this.opened.get(event.id) ?? null;
        this.opened.delete(event.id);
        const request = known?.request;
        return { at, vm: event.vm, kind: 'prompt', event: 'closed', id: event.id, destination: known?.destination ?? null, ...(request ? { request } : {}), action: event.action, reason: event.reason, program: known?.program ?? null };
      }
      case 'hook.finished': {
        const run = event.run;
        const durationMs = run.finishedAt ? Date.parse(run.finishedAt) - Date.parse(run.startedAt) : null;
        return { at, vm: run.vm, kind: 'hook', type: run.type, script: run.script, source: run.source, exitCode: run.exitCode, error: run.error, durationMs };
      }
      case 'egress.report':
        return event.report.kind === 'secret-used' ? null : { at, vm: event.report.vm, kind: 'egress', report: event.report };
      default:
        return null;
    }
  }
}

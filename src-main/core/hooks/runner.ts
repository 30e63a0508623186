// Runs in: plain Node (core).
import { appendFile, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { XrayEvent } from '../../shared/contract';
import type { HookRun, HookRunRecord } from '../../shared/models';
import { XrayError, errorMessage } from '../../shared/errors';
import { validateName } from '../names';
import type { HomePaths } from '../paths';
import { HOOK_TYPES, type HookType } from '../../shared/enums';
import type { PluginHost } from '../plugins/host';
import { connectVm, type SshTarget } from '../ssh/connect';
import type { SshSession } from '../ssh/session';
import { JsonLinesLog } from '../store/jsonl-log';
import { VmStore } from '../store/vm-config';
import { tailOf } from '../vms/logs';
import type { AutoMoment } from '../vms/auto-snapshots';
import { LineSplitter, runHostScript } from './host-script';
import { beforeHook, scriptIsRisky } from './risky';

/**
 * HookRunner runs a VM's hooks: built-in ones first, then executables from
 * XRAY_HOME/scripts/TYPE and vms/NAME/scripts/TYPE (alphabetical within each,
 * run on the host), then plugin hooks. A failing hook is reported (event, log
 * line, HookRun) and never stops the VM or the hooks after it.
 */

export type HookSource = HookRun['source'];

/** HookTarget is how hooks reach the guest; host scripts get it as XRAY_SSH_* variables. */
export type HookTarget = SshTarget;

/** RUN_OUTPUT_LINES is how much of a run's output its record keeps: the end, where errors are. */
const RUN_OUTPUT_LINES = 200;
/** RUN_LOG_BYTES is when hook-runs.jsonl rotates (one old file is kept). */
const RUN_LOG_BYTES = 2 * 1024 * 1024;

export interface BuiltInHookContext {
  readonly vm: string;
  readonly type: HookType;
  readonly target: HookTarget;
  /** session returns the SSH session to the guest, opening it on first use. */
  session(): Promise<SshSession>;
  /** output adds text to the hook's output (events and the VM's hook log). */
  output(stream: 'stdout' | 'stderr', text: string): void;
  /** signal is aborted when the hook runs past its timeout. */
  readonly signal: AbortSignal;
}

/** BuiltInHook is a hook Xray ships (guest setup); it fails by throwing. */
export interface BuiltInHook {
  readonly name: string;
  readonly type: HookType;
  run(ctx: BuiltInHookContext): Promise<void>;
}

export interface HookListing {
  readonly type: HookType;
  readonly script: string;
  readonly source: HookSource;
  /** risky hooks get an automatic snapshot before they run (hooks/risky.ts says how they are marked). */
  readonly risky: boolean;
}

/** HookSnapshots takes automatic snapshots (AutoSnapshots): after a first boot, before a risky hook; null when they are off. */
export interface HookSnapshots {
  take(vm: string, moment: AutoMoment): Promise<unknown>;
}

export interface HookRunnerOptions {
  readonly paths: HomePaths;
  readonly emit: (event: XrayEvent) => void;
  readonly plugins: PluginHost;
  readonly builtIns?: readonly BuiltInHook[];
  /** timeoutMs bounds each hook; default 10 minutes. */
  readonly timeoutMs?: number;
  readonly store?: VmStore;
  readonly snapshots?: HookSnapshots;
  /** connect opens SSH when a built-in or plugin hook needs it and no session was given (for testing). */
  readonly connect?: (vm: string, target: HookTarget, signal: AbortSignal) => Promise<SshSession>;
}

export const DEFAULT_HOOK_TIMEOUT_MS = 10 * 60_000;
const SSH_WAIT_MS = 2 * 60_000;

interface Step {
  readonly listing: HookListing;
  /** execute runs the hook and resolves with its exit code (0 for success). */
  execute(io: StepIo): Promise<number | null>;
}

interface StepIo {
  readonly vm: string;
  readonly target: HookTarget;
  readonly sessions: SessionSource;
  readonly output: (stream: 'stdout' | 'stderr', text: string) => void;
}

/** SessionSource opens one SSH session on first use and shares it across hooks. */
class SessionSource {
  private pending: Promise<SshSession> | null;
  private readonly owned: boolean;
  private readonly abort = new AbortController();

  constructor(
    given: SshSession | undefined,
    private readonly open: (signal: AbortSignal) => Promise<SshSession>,
  ) {
    this.pending = given ? Promise.resolve(given) : null;
    this.owned = given === undefined;
  }

  get(): Promise<SshSession> {
    this.pending ??= this.open(this.abort.signal);
    return this.pending;
  }

  close(): void {
    if (!this.owned) return;
    this.abort.abort();
    void this.pending?.then((s) => s.close(), () => undefined);
  }
}

export class HookRunner {
  private readonly store: VmStore;
  private readonly timeoutMs: number;
  private readonly builtIns: readonly BuiltInHook[];
  private readonly connect: (vm: string, target: HookTarget, signal: AbortSignal) => Promise<SshSession>;
  private logQueue: Promise<void> = Promise.resolve();
  private readonly runLogs = new Map<string, JsonLinesLog<HookRunRecord>>();

  constructor(private readonly options: HookRunnerOptions) {
    this.store = options.store ?? new VmStore(options.paths);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
    this.builtIns = options.builtIns ?? [];
    this.connect = options.connect ?? ((vm, target, signal) => connectVm(options.paths, vm, target, { timeoutMs: SSH_WAIT_MS, signal }));
  }

  /** list returns the hooks that would run for the VM, in order, for every type (or one). */
  async list(vm: string, type?: HookType): Promise<HookListing[]> {
    validateName('VM', vm);
    await this.options.plugins.load();
    const out: HookListing[] = [];
    for (const t of type ? [type] : HOOK_TYPES) out.push(...(await this.plan(vm, t, () => undefined)).map((s) => s.listing));
    return out;
  }

  /** run runs every hook of `type` for the VM and returns one HookRun per hook; it throws only for a bad VM name. */
  async run(vm: string, type: HookType, target: HookTarget, session?: SshSession): Promise<HookRun[]> {
    validateName('VM', vm);
    const sessions = new SessionSource(session, (signal) => this.connect(vm, target, signal));
    try {
      return await this.runWith(vm, type, target, sessions);
    } finally {
      sessions.close();
    }
  }

  /**
   * runLifecycle runs the hooks a moment in a VM's life calls for. `create`:
   * the create hooks. `start`: the initial-boot hooks while the VM has never
   * had them all succeed (first_boot_completed in vm.toml records that they
   * have), then the boot hooks; a first boot that completed so is followed
   * by an automatic snapshot (when they are on).
   */
  async runLifecycle(vm: string, kind: 'create' | 'start', target: HookTarget, session?: SshSession): Promise<HookRun[]> {
    validateName('VM', vm);
    const sessions = new SessionSource(session, (signal) => this.connect(vm, target, signal));
    try {
      if (kind === 'create') return await this.runWith(vm, 'create', target, sessions);
      const runs: HookRun[] = [];
      let firstBoot = false;
      if (!(await this.store.read(vm)).firstBootCompleted) {
        const initial = await this.runWith(vm, 'initial-boot', target, sessions);
        runs.push(...initial);
        if (initial.every(succeeded)) {
          await this.store.update(vm, (cfg) => {
            cfg.firstBootCompleted = true;
          });
          firstBoot = true;
        }
      }
      runs.push(...(await this.runWith(vm, 'boot', target, sessions)));
      if (firstBoot) {
        await this.options.snapshots?.take(vm, { kind: 'first-boot' }).catch((err: unknown) =>
          this.warn(`VM "${vm}" completed its first boot, but the automatic snapshot after it failed: ${errorMessage(err)}`),
        );
      }
      return runs;
    } finally {
      sessions.close();
    }
  }

  /** resetInitialBoot makes the initial-boot hooks run again at the VM's next start. */
  async resetInitialBoot(vm: string): Promise<void> {
    await this.store.update(vm, (cfg) => {
      cfg.firstBootCompleted = false;
    });
  }

  private async runWith(vm: string, type: HookType, target: HookTarget, sessions: SessionSource): Promise<HookRun[]> {
    const runs: HookRun[] = [];
    await this.options.plugins.load();
    const steps = await this.plan(vm, type, (file) =>
      this.warn(`The hook script ${file} is not executable, so it was skipped; run "chmod +x ${file}" to run it.`),
    );
    for (const step of steps) runs.push(await this.runStep(vm, type, target, sessions, step));
    return runs;
  }

  private async runStep(vm: string, type: HookType, target: HookTarget, sessions: SessionSource, step: Step): Promise<HookRun> {
    const { script, source } = step.listing;
    const blocked = step.listing.risky ? await this.snapshotBefore(vm, step.listing) : null;
    const hookLog = this.options.paths.vm(vm).hookLog;
    const started: HookRun = { vm, type, script, source, startedAt: new Date().toISOString(), finishedAt: null, exitCode: null, error: null };
    this.options.emit({ type: 'hook.started', run: started });
    this.appendLog(hookLog, `${started.startedAt} [${type}] ${source}:${script} started`);
    const output: HookRunRecord['output'][number][] = [];
    const keep = (stream: 'stdout' | 'stderr', text: string): void => {
      output.push({ stream, text });
      if (output.length > RUN_OUTPUT_LINES) output.shift();
    };
    const splitters = {
      stdout: new LineSplitter((line) => {
        keep('stdout', line);
        this.line(vm, type, step.listing, 'stdout', line);
      }),
      stderr: new LineSplitter((line) => {
        keep('stderr', line);
        this.line(vm, type, step.listing, 'stderr', line);
      }),
    };
    let exitCode: number | null = null;
    let error: string | null = blocked;
    try {
      if (blocked === null) {
        exitCode = await step.execute({ vm, target, sessions, output: (stream, text) => splitters[stream].push(text) });
        if (exitCode !== 0) error = exitCode === null ? 'was killed' : `exited with code ${exitCode}`;
      }
    } catch (err) {
      error = errorMessage(err);
    }
    splitters.stdout.flush();
    splitters.stderr.flush();
    const finished: HookRun = { ...started, finishedAt: new Date().toISOString(), exitCode, error };
    this.appendLog(hookLog, `${finished.finishedAt} [${type}] ${source}:${script} ${error === null ? 'succeeded' : `failed: ${error}`}`);
    this.runsOf(vm).append({ run: finished, durationMs: Date.parse(finished.finishedAt as string) - Date.parse(started.startedAt), output });
    this.options.emit({ type: 'hook.finished', run: finished });
    if (error !== null) {
      this.options.emit({
        type: 'log',
        level: 'error',
        source: 'hooks',
        message: `The ${type} hook "${script}" (${source}) of VM "${vm}" failed: ${error}; the VM keeps running, see ${hookLog}.`,
      });
    }
    await this.logQueue;
    return finished;
  }

  /** snapshotBefore takes the automatic snapshot before a risky hook; it returns why the hook must not run, or null. */
  private async snapshotBefore(vm: string, listing: HookListing): Promise<string | null> {
    try {
      await this.options.snapshots?.take(vm, beforeHook(listing));
      return null;
    } catch (err) {
      return `it did not run, because the automatic snapshot before it failed: ${errorMessage(err)}`;
    }
  }

  private line(vm: string, type: HookType, listing: HookListing, stream: 'stdout' | 'stderr', text: string): void {
    this.options.emit({ type: 'hook.output', vm, script: listing.script, stream, text });
    this.appendLog(this.options.paths.vm(vm).hookLog, `${new Date().toISOString()} [${type}] ${listing.source}:${listing.script} ${stream}: ${text}`);
  }

  /** appendLog writes hook log lines in order without making hooks wait for the disk. */
  private appendLog(file: string, line: string): void {
    this.logQueue = this.logQueue.then(
      () => appendFile(file, `${line}\n`, { mode: 0o600 }).catch(() => undefined),
    );
  }

  /** runsOf is the record of a VM's finished runs (hook-runs.jsonl), gathered and written off the hooks' path. */
  private runsOf(vm: string): JsonLinesLog<HookRunRecord> {
    let log = this.runLogs.get(vm);
    if (!log) {
      log = new JsonLinesLog<HookRunRecord>({ capacity: 1, file: this.options.paths.vm(vm).hookRuns, maxFileBytes: RUN_LOG_BYTES, keepAlive: true });
      this.runLogs.set(vm, log);
    }
    return log;
  }

  /** runs returns a VM's newest finished hook runs, oldest first. */
  async runs(vm: string, limit: number): Promise<HookRunRecord[]> {
    await this.runLogs.get(vm)?.flush();
    const file = this.options.paths.vm(vm).hookRuns;
    const lines = [...(await tailOf(`${file}.1`, limit)), ...(await tailOf(file, limit))];
    return lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as HookRunRecord];
      } catch {
        return [];
      }
    }).slice(-limit);
  }

  private warn(message: string): void {
    this.options.emit({ type: 'log', level: 'warn', source: 'hooks', message });
  }

  private async plan(vm: string, type: HookType, onSkipped: (file: string) => void): Promise<Step[]> {
    const steps: Step[] = [];
    for (const hook of this.builtIns.filter((h) => h.type === type)) {
      steps.push({
        listing: { type, script: hook.name, source: 'built-in', risky: false },
        execute: (io) =>
          this.inProcess(hook.name, (signal) =>
            hook.run({ vm, type, target: io.target, session: () => io.sessions.get(), output: io.output, signal }),
          ),
      });
    }
    const dirs: [string, HookSource][] = [
      [this.options.paths.globalScripts(type), 'global'],
      [this.options.paths.vm(vm).scripts(type), 'vm'],
    ];
    for (const [dir, source] of dirs) {
      for (const file of await executables(dir, onSkipped)) {
        steps.push({
          listing: { type, script: file, source, risky: await scriptIsRisky(join(dir, file)) },
          execute: (io) => this.hostScript(join(dir, file), type, io),
        });
      }
    }
    for (const hook of this.options.plugins.hooksFor(type)) {
      steps.push({
        listing: { type, script: hook.plugin, source: 'plugin', risky: hook.risky },
        execute: (io) => this.inProcess(hook.plugin, () => hook.run(vm, { session: () => io.sessions.get(), output: io.output })),
      });
    }
    return steps;
  }

  private async hostScript(file: string, type: HookType, io: StepIo): Promise<number | null> {
    const vmPaths = this.options.paths.vm(io.vm);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME,
      XRAY_HOME: this.options.paths.root,
      XRAY_VM_NAME: io.vm,
      XRAY_HOOK_TYPE: type,
      XRAY_SSH_HOST: io.target.host,
      XRAY_SSH_PORT: String(io.target.port),
      XRAY_SSH_USER: io.target.user,
      XRAY_SSH_KEY: io.target.keyPath,
      XRAY_SSH_KNOWN_HOSTS: vmPaths.knownHosts,
    };
    await mkdir(vmPaths.dir, { recursive: true, mode: 0o700 });
    const result = await runHostScript(file, { env, timeoutMs: this.timeoutMs, onOutput: io.output });
    if (result.timedOut) throw new XrayError('timeout', `it did not finish within ${formatMs(this.timeoutMs)} and was killed`);
    return result.code;
  }

  /** inProcess runs a built-in or plugin hook with the same timeout as scripts; throwing means failure. */
  private async inProcess(name: string, task: (signal: AbortSignal) => Promise<void>): Promise<number> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new XrayError('timeout', `it did not finish within ${formatMs(this.timeoutMs)}`));
        abort.abort();
      }, this.timeoutMs);
    });
    try {
      await Promise.race([task(abort.signal), timeout]);
      return 0;
    } finally {
      clearTimeout(timer);
    }
  }
}

function succeeded(run: HookRun): boolean {
  return run.exitCode === 0 && run.error === null;
}

/**
 * executables lists a hook directory's runnable files in code-point order (as
 * `LC_ALL=C ls` sorts). Dot files are ignored; other non-executable files are
 * passed to `onSkipped` so the user learns why a script did not run.
 */
async function executables(dir: string, onSkipped: (file: string) => void): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: string[] = [];
  for (const name of names.filter((n) => !n.startsWith('.')).sort(codePointOrder)) {
    const info = await stat(join(dir, name)).catch(() => null);
    if (!info?.isFile()) continue;
    if ((info.mode & 0o111) === 0) onSkipped(join(dir, name));
    else out.push(name);
  }
  return out;
}

function codePointOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

// Runs in: plain Node (core).
import type { XrayEvent } from '../../shared/contract';
import type { HookRun, HookRunRecord } from '../../shared/models';
import { errorMessage } from '../../shared/errors';
import { validateName } from '../names';
import type { HomePaths } from '../paths';
import { HOOK_TYPES, type HookType } from '../../shared/enums';
import type { PluginHost } from '../plugins/host';
import { connectVm } from '../ssh/connect';
import type { SshSession } from '../ssh/session';
import { VmStore } from '../store/vm-store';
import type { BuiltInHook, HookListing, HookSnapshots, HookTarget } from './hook-types';
import { LineSplitter } from './host-script';
import { beforeHook } from './risky';
import { HookRunLog } from './run-log';
import { SessionSource, planSteps, type PlanContext, type Step } from './steps';

/**
 * HookRunner runs a VM's hooks: built-in ones first, then executables from
 * XRAY_HOME/scripts/TYPE and vms/NAME/scripts/TYPE (alphabetical within each,
 * run on the host), then plugin hooks. A failing hook is reported (event, log
 * line, HookRun) and never stops the VM or the hooks after it.
 */

/** RUN_OUTPUT_LINES is how much of a run's output its record keeps: the end, where errors are. */
const RUN_OUTPUT_LINES = 200;

/** TargetSource gives the hook target when a hook first needs it. */
type TargetSource = () => Promise<HookTarget>;

/** once makes a target, or a function giving one, into a TargetSource that asks at most once. */
function once(target: HookTarget | TargetSource): TargetSource {
  if (typeof target !== 'function') return () => Promise.resolve(target);
  let made: Promise<HookTarget> | undefined;
  return () => (made ??= target());
}

/** HookRunnerOptions configures a HookRunner; the optional parts are replaced in tests. */
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

/** DEFAULT_HOOK_TIMEOUT_MS bounds each hook when the runner is not told otherwise. */
export const DEFAULT_HOOK_TIMEOUT_MS = 10 * 60_000;
const SSH_WAIT_MS = 2 * 60_000;

/** HookRunner lists and runs a VM's hooks and keeps the record of their runs. */
export class HookRunner {
  private readonly store: VmStore;
  private readonly plan: PlanContext;
  private readonly connect: (vm: string, target: HookTarget, signal: AbortSignal) => Promise<SshSession>;
  private readonly log: HookRunLog;

  constructor(private readonly options: HookRunnerOptions) {
    this.store = options.store ?? new VmStore(options.paths);
    this.plan = { paths: options.paths, plugins: options.plugins, builtIns: options.builtIns ?? [], timeoutMs: options.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS };
    this.connect = options.connect ?? ((vm, target, signal) => connectVm(options.paths, vm, target, { timeoutMs: SSH_WAIT_MS, signal }));
    this.log = new HookRunLog(options.paths);
  }

  /** list returns the hooks that would run for the VM, in order, for every type (or one). */
  async list(vm: string, type?: HookType): Promise<HookListing[]> {
    validateName('VM', vm);
    await this.options.plugins.load();
    const out: HookListing[] = [];
    for (const t of type ? [type] : HOOK_TYPES) out.push(...(await planSteps(this.plan, vm, t, () => undefined)).map((s) => s.listing));
    return out;
  }

  /** run runs every hook of `type` for the VM and returns one HookRun per hook; it throws only for a bad VM name. */
  async run(vm: string, type: HookType, targetOrSource: HookTarget | TargetSource, session?: SshSession): Promise<HookRun[]> {
    validateName('VM', vm);
    const target = once(targetOrSource);
    const sessions = new SessionSource(session, async (signal) => this.connect(vm, await target(), signal));
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
   * by an automatic snapshot (when they are on). A target given as a
   * function is asked for only when a hook runs (making the VM's SSH key).
   */
  async runLifecycle(vm: string, kind: 'create' | 'start', targetOrSource: HookTarget | TargetSource, session?: SshSession): Promise<HookRun[]> {
    validateName('VM', vm);
    const target = once(targetOrSource);
    const sessions = new SessionSource(session, async (signal) => this.connect(vm, await target(), signal));
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

  private async runWith(vm: string, type: HookType, target: TargetSource, sessions: SessionSource): Promise<HookRun[]> {
    const runs: HookRun[] = [];
    await this.options.plugins.load();
    const steps = await planSteps(this.plan, vm, type, (file) =>
      this.warn(`The hook script ${file} is not executable, so it was skipped; run "chmod +x ${file}" to run it.`),
    );
    if (steps.length === 0) return runs;
    const resolved = await target();
    for (const step of steps) runs.push(await this.runStep(vm, type, resolved, sessions, step));
    return runs;
  }

  private async runStep(vm: string, type: HookType, target: HookTarget, sessions: SessionSource, step: Step): Promise<HookRun> {
    const { script, source } = step.listing;
    const blocked = step.listing.risky ? await this.snapshotBefore(vm, step.listing) : null;
    const hookLog = this.options.paths.vm(vm).hookLog;
    const started: HookRun = { vm, type, script, source, startedAt: new Date().toISOString(), finishedAt: null, exitCode: null, error: null };
    this.options.emit({ type: 'hook.started', run: started });
    this.log.appendLine(hookLog, `${started.startedAt} [${type}] ${source}:${script} started`);
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
    this.log.appendLine(hookLog, `${finished.finishedAt} [${type}] ${source}:${script} ${error === null ? 'succeeded' : `failed: ${error}`}`);
    this.log.record(vm, { run: finished, durationMs: Date.parse(finished.finishedAt as string) - Date.parse(started.startedAt), output });
    this.options.emit({ type: 'hook.finished', run: finished });
    if (error !== null) {
      this.options.emit({
        type: 'log',
        level: 'error',
        source: 'hooks',
        message: `The ${type} hook "${script}" (${source}) of VM "${vm}" failed: ${error.replace(/\.$/, '')}; the VM keeps running, see ${hookLog}.`,
      });
    }
    await this.log.written();
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
    this.log.appendLine(this.options.paths.vm(vm).hookLog, `${new Date().toISOString()} [${type}] ${listing.source}:${listing.script} ${stream}: ${text}`);
  }

  /** runs returns a VM's newest finished hook runs, oldest first. */
  runs(vm: string, limit: number): Promise<HookRunRecord[]> {
    return this.log.runs(vm, limit);
  }

  private warn(message: string): void {
    this.options.emit({ type: 'log', level: 'warn', source: 'hooks', message });
  }

}

function succeeded(run: HookRun): boolean {
  return run.exitCode === 0 && run.error === null;
}

// Runs in: plain Node (core).
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { XrayError } from '../../shared/errors';
import type { HookType } from '../../shared/enums';
import type { HomePaths } from '../paths';
import type { PluginHost } from '../plugins/host';
import type { SshSession } from '../ssh/session';
import type { BuiltInHook, HookListing, HookSource, HookTarget } from './hook-types';
import { runHostScript } from './host-script';
import { scriptIsRisky } from './risky';

/**
 * steps finds the hooks of one type for a VM, in the order they run (built-in,
 * global scripts, the VM's scripts, plugins), and knows how to execute each
 * one under the hook timeout.
 */

/** Step is one hook ready to run. */
export interface Step {
  readonly listing: HookListing;
  /** execute runs the hook and resolves with its exit code (0 for success). */
  execute(io: StepIo): Promise<number | null>;
}

/** StepIo is what a step runs against: the VM, how to reach it, and where its output goes. */
export interface StepIo {
  readonly vm: string;
  readonly target: HookTarget;
  readonly sessions: SessionSource;
  readonly output: (stream: 'stdout' | 'stderr', text: string) => void;
}

/** PlanContext is what planning and running steps needs from the runner. */
export interface PlanContext {
  readonly paths: HomePaths;
  readonly plugins: PluginHost;
  readonly builtIns: readonly BuiltInHook[];
  readonly timeoutMs: number;
}

/** SessionSource opens one SSH session on first use and shares it across hooks. */
export class SessionSource {
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

/** planSteps returns the VM's hooks of `type` in run order; `onSkipped` hears of scripts that are not executable. */
export async function planSteps(ctx: PlanContext, vm: string, type: HookType, onSkipped: (file: string) => void): Promise<Step[]> {
  const steps: Step[] = [];
  for (const hook of ctx.builtIns.filter((h) => h.type === type)) {
    steps.push({
      listing: { type, script: hook.name, source: 'built-in', risky: false },
      execute: (io) =>
        inProcess(ctx.timeoutMs, (signal) =>
          hook.run({ vm, type, target: io.target, session: () => io.sessions.get(), output: io.output, signal }),
        ),
    });
  }
  const dirs: [string, HookSource][] = [
    [ctx.paths.globalScripts(type), 'global'],
    [ctx.paths.vm(vm).scripts(type), 'vm'],
  ];
  for (const [dir, source] of dirs) {
    for (const file of await executables(dir, onSkipped)) {
      steps.push({
        listing: { type, script: file, source, risky: await scriptIsRisky(join(dir, file)) },
        execute: (io) => hostScript(ctx, join(dir, file), type, io),
      });
    }
  }
  for (const hook of ctx.plugins.hooksFor(type)) {
    steps.push({
      listing: { type, script: hook.plugin, source: 'plugin', risky: hook.risky },
      execute: (io) => inProcess(ctx.timeoutMs, () => hook.run(vm, { session: () => io.sessions.get(), output: io.output })),
    });
  }
  return steps;
}

/** hostScript runs a hook script on the host with the XRAY_* variables; a timeout is an error. */
async function hostScript(ctx: PlanContext, file: string, type: HookType, io: StepIo): Promise<number | null> {
  const vmPaths = ctx.paths.vm(io.vm);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME,
    XRAY_HOME: ctx.paths.root,
    XRAY_VM_NAME: io.vm,
    XRAY_HOOK_TYPE: type,
    XRAY_SSH_HOST: io.target.host,
    XRAY_SSH_PORT: String(io.target.port),
    XRAY_SSH_USER: io.target.user,
    XRAY_SSH_KEY: io.target.keyPath,
    XRAY_SSH_KNOWN_HOSTS: vmPaths.knownHosts,
  };
  await mkdir(vmPaths.dir, { recursive: true, mode: 0o700 });
  const result = await runHostScript(file, { env, timeoutMs: ctx.timeoutMs, onOutput: io.output });
  if (result.timedOut) throw new XrayError('timeout', `it did not finish within ${formatMs(ctx.timeoutMs)} and was killed`);
  return result.code;
}

/** inProcess runs a built-in or plugin hook with the same timeout as scripts; throwing means failure. */
async function inProcess(timeoutMs: number, task: (signal: AbortSignal) => Promise<void>): Promise<number> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new XrayError('timeout', `it did not finish within ${formatMs(timeoutMs)}`));
      abort.abort();
    }, timeoutMs);
  });
  try {
    await Promise.race([task(abort.signal), timeout]);
    return 0;
  } finally {
    clearTimeout(timer);
  }
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

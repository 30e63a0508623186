// Runs in: plain Node (core).
import { XrayError } from '../../shared/errors';
import type { SshSession } from '../ssh/session';
import type { VmStore } from '../store/vm-store';

/**
 * context builds the objects plugins receive. They are plain objects of
 * functions so a plugin needs nothing from Xray's code to use them.
 */

/** CommandOutput is what a command run inside the guest printed, and how it ended. */
export interface CommandOutput {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** PluginSettings reads and writes the plugin's own table, [plugins.NAME], in a VM's vm.toml. */
export interface PluginSettings {
  get(key: string): Promise<unknown>;
  getAll(): Promise<Record<string, unknown>>;
  set(key: string, value: unknown): Promise<void>;
  /** delete removes the key and says whether it was there. */
  delete(key: string): Promise<boolean>;
}

/** PluginVmContext is what a hook gets, and what a command gets from `ctx.open(vm)`. */
export interface PluginVmContext {
  readonly vm: string;
  run(command: string, opts?: { timeoutMs?: number }): Promise<CommandOutput>;
  runScript(text: string, opts?: { timeoutMs?: number; shell?: 'sh' | 'bash' }): Promise<CommandOutput>;
  copyFile(local: string, remote: string, mode?: number): Promise<void>;
  readonly settings: PluginSettings;
  /** log adds a line to the hook's output (events and the VM's hook log). */
  log(text: string): void;
}

/** PluginCommandContext is what a command's `run(ctx, args)` gets. */
export interface PluginCommandContext {
  /** vm is the VM the command was run for, when one was named. */
  readonly vm: string | null;
  print(text: string): void;
  /** open reaches a VM (default: `vm`); SSH is opened on first use and closed after the command. */
  open(name?: string): PluginVmContext;
}

export interface VmContextIo {
  readonly session: () => Promise<SshSession>;
  readonly output: (stream: 'stdout' | 'stderr', text: string) => void;
}

export function makeVmContext(plugin: string, vm: string, store: VmStore, io: VmContextIo): PluginVmContext {
  const capture = async (start: (session: SshSession, onStdout: (t: string) => void, onStderr: (t: string) => void) => Promise<{ code: number | null }>): Promise<CommandOutput> => {
    let stdout = '';
    let stderr = '';
    const session = await io.session();
    const result = await start(
      session,
      (text) => {
        stdout += text;
        io.output('stdout', text);
      },
      (text) => {
        stderr += text;
        io.output('stderr', text);
      },
    );
    return { code: result.code, stdout, stderr };
  };
  return {
    vm,
    run: (command, opts = {}) => capture((s, onStdout, onStderr) => s.exec(command, { onStdout, onStderr, timeoutMs: opts.timeoutMs })),
    runScript: (text, opts = {}) => capture((s, onStdout, onStderr) => s.runScript(text, { onStdout, onStderr, timeoutMs: opts.timeoutMs, shell: opts.shell })),
    copyFile: async (local, remote, mode) => (await io.session()).copyFile(local, remote, mode),
    settings: makeSettings(plugin, vm, store),
    log: (text) => io.output('stdout', text.endsWith('\n') ? text : `${text}\n`),
  };
}

function makeSettings(plugin: string, vm: string, store: VmStore): PluginSettings {
  const checkKey = (key: unknown): string => {
    if (typeof key !== 'string' || key === '') throw new XrayError('invalid-argument', `Plugin "${plugin}" used a setting key that is not a non-empty string.`);
    return key;
  };
  return {
    get: async (key) => (await store.read(vm)).plugins[plugin]?.[checkKey(key)],
    getAll: async () => ({ ...((await store.read(vm)).plugins[plugin] ?? {}) }),
    set: async (key, value) => {
      checkKey(key);
      const problem = tomlValueProblem(value);
      if (problem) throw new XrayError('invalid-argument', `Plugin "${plugin}" tried to save setting "${key}" as ${problem}; settings must be strings, numbers, booleans, dates, lists or tables.`);
      await store.update(vm, (cfg) => {
        cfg.plugins[plugin] = { ...(cfg.plugins[plugin] ?? {}), [key]: value };
      });
    },
    delete: async (key) => {
      checkKey(key);
      let found = false;
      await store.update(vm, (cfg) => {
        const table = { ...(cfg.plugins[plugin] ?? {}) };
        found = Object.hasOwn(table, key);
        delete table[key];
        if (Object.keys(table).length === 0) delete cfg.plugins[plugin];
        else cfg.plugins[plugin] = table;
      });
      return found;
    },
  };
}

/** tomlValueProblem says why `value` cannot be stored in TOML, or returns null when it can. */
function tomlValueProblem(value: unknown): string | null {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string' || typeof value === 'boolean' || value instanceof Date) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : String(value);
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = tomlValueProblem(item);
      if (problem) return `a list holding ${problem}`;
    }
    return null;
  }
  if (typeof value === 'object') {
    for (const item of Object.values(value)) {
      const problem = tomlValueProblem(item);
      if (problem) return `a table holding ${problem}`;
    }
    return null;
  }
  return `a ${typeof value}`;
}

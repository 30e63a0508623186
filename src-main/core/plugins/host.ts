// Runs in: plain Node (core).
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as z from 'zod';
import type { PluginInfo } from '../../shared/contract';
import { XrayError, errorMessage } from '../../shared/errors';
import { nameProblem } from '../../shared/names';
import type { HomePaths } from '../paths';
import { HOOK_TYPES, type HookType } from '../../shared/enums';
import type { SshSession } from '../ssh/session';
import type { VmStore } from '../store/vm-store';
import { makeVmContext, type PluginCommandContext, type PluginVmContext, type VmContextIo } from './context';

/**
 * PluginHost loads XRAY_HOME/plugins/*.js and *.mjs. A plugin is an ES module:
 *
 *   export const commands = { uptime: { description: '…', run: async (ctx, args) => … } };
 *   export const hooks = { boot: async (ctx) => … };
 *
 * (see examples/plugins/README.md). Each plugin is loaded and run in isolation:
 * one that throws is reported and the others go on.
 */

/** buildPluginModule makes the schema of a plugin's exports; built when a plugin is first loaded, not by every command's start-up. */
function buildPluginModule() {
  const fn = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', { message: 'must be a function' });
  const commandName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, { message: 'command names use letters, digits, "_" and "-"' });
  const risky = z.boolean().optional();
  /** hook is a hook function, or `{ run, risky }` to mark it risky. */
  const hook = z.union([fn, z.strictObject({ run: fn, risky })]).optional();
  return z
    .object({
      commands: z.record(commandName, z.object({ description: z.string(), run: fn, risky })).optional(),
      hooks: z.strictObject({ create: hook, 'initial-boot': hook, boot: hook }).optional(),
    })
    .refine((m) => m.commands !== undefined || m.hooks !== undefined, { message: 'exports neither "commands" nor "hooks"' });
}

let pluginModule: ReturnType<typeof buildPluginModule> | undefined;

type PluginCommand = { description: string; run: (ctx: PluginCommandContext, args: string[]) => unknown; risky?: boolean };
type PluginHookFn = (ctx: PluginVmContext) => unknown;
type LoadedHook = { readonly run: PluginHookFn; readonly risky: boolean };

interface LoadedPlugin {
  readonly info: PluginInfo;
  readonly commands: Record<string, PluginCommand>;
  readonly hooks: Partial<Record<HookType, LoadedHook>>;
}

/** PluginHook is one plugin's hook for one type, ready for the hook runner. */
export interface PluginHook {
  readonly plugin: string;
  readonly type: HookType;
  /** risky hooks get an automatic snapshot before they run. */
  readonly risky: boolean;
  run(vm: string, io: VmContextIo): Promise<void>;
}

export interface PluginHostOptions {
  readonly paths: HomePaths;
  readonly store: VmStore;
  /** connect opens SSH to a VM for a plugin command; hooks use the hook runner's session. */
  readonly connect: (vm: string) => Promise<SshSession>;
  /** beforeRisky takes the automatic snapshot before a risky command first reaches a VM; it throws when that failed. */
  readonly beforeRisky?: (vm: string, plugin: string, command: string) => Promise<unknown>;
  /** importModule loads a module by URL (for testing). */
  readonly importModule?: (url: string) => Promise<Record<string, unknown>>;
}

export class PluginHost {
  private plugins: LoadedPlugin[] = [];
  private readonly importModule: (url: string) => Promise<Record<string, unknown>>;

  constructor(private readonly options: PluginHostOptions) {
    this.importModule = options.importModule ?? ((url) => import(url) as Promise<Record<string, unknown>>);
  }

  /**
   * load (re)reads every plugin file. The import URL carries the file's mtime,
   * so an edited plugin is loaded afresh while an unchanged one is reused.
   */
  async load(): Promise<PluginInfo[]> {
    const dir = this.options.paths.pluginsDir;
    let files: string[];
    try {
      files = (await readdir(dir)).filter((f) => (f.endsWith('.js') || f.endsWith('.mjs')) && !f.startsWith('.')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      files = [];
    }
    const loaded: LoadedPlugin[] = [];
    for (const file of files) {
      const path = join(dir, file);
      const name = basename(file, extname(file));
      loaded.push(await this.loadOne(name, path, loaded));
    }
    this.plugins = loaded;
    return this.list();
  }

  list(): PluginInfo[] {
    return this.plugins.map((p) => p.info);
  }

  /** hooksFor returns the hooks of `type` from every plugin that loaded, in file-name order. */
  hooksFor(type: HookType): PluginHook[] {
    const out: PluginHook[] = [];
    for (const plugin of this.plugins) {
      const hook = plugin.hooks[type];
      if (!hook) continue;
      const name = plugin.info.name;
      out.push({
        plugin: name,
        type,
        risky: hook.risky,
        run: async (vm, io) => {
          await hook.run(makeVmContext(name, vm, this.options.store, io));
        },
      });
    }
    return out;
  }

  /**
   * runCommand runs a plugin's command and returns what it printed (plus what
   * it returned, when that is a string). SSH sessions it opened are closed.
   * A risky command gets an automatic snapshot of each VM it reaches, before
   * it first does (its first command there).
   */
  async runCommand(plugin: string, command: string, args: readonly string[], vm?: string): Promise<{ output: string }> {
    await this.load();
    const loaded = this.plugins.find((p) => p.info.name === plugin);
    if (!loaded) {
      throw new XrayError('not-found', `There is no plugin "${plugin}"; run "xray plugin list" to see the plugins in ${this.options.paths.pluginsDir}.`);
    }
    if (loaded.info.error) throw new XrayError('invalid-argument', `Plugin "${plugin}" did not load (${loaded.info.error}); fix ${loaded.info.file}.`);
    const cmd = loaded.commands[command];
    if (!cmd) {
      const known = Object.keys(loaded.commands);
      throw new XrayError('not-found', `Plugin "${plugin}" has no command "${command}"; it has ${known.length > 0 ? known.join(', ') : 'no commands'}.`);
    }
    let output = '';
    const sessions = new Map<string, Promise<SshSession>>();
    const ctx: PluginCommandContext = {
      vm: vm ?? null,
      print: (text) => {
        output += text.endsWith('\n') ? text : `${text}\n`;
      },
      open: (name = vm) => {
        if (name === undefined) throw new XrayError('invalid-argument', `Plugin "${plugin}" command "${command}" needs a VM; name one.`);
        const session = (): Promise<SshSession> => {
          let pending = sessions.get(name);
          if (!pending) {
            pending = (cmd.risky ? this.snapshotBefore(name, plugin, command) : Promise.resolve()).then(() => this.options.connect(name));
            sessions.set(name, pending);
          }
          return pending;
        };
        return makeVmContext(plugin, name, this.options.store, { session, output: () => undefined });
      },
    };
    try {
      const result = await cmd.run(ctx, [...args]);
      if (typeof result === 'string') output += result.endsWith('\n') ? result : `${result}\n`;
      return { output };
    } catch (err) {
      if (err instanceof XrayError) throw err;
      throw new XrayError('internal', `Plugin "${plugin}" failed in command "${command}": ${errorMessage(err)}; fix the plugin or remove ${loaded.info.file}.`, { cause: err });
    } finally {
      for (const pending of sessions.values()) void pending.then((s) => s.close(), () => undefined);
    }
  }

  private async snapshotBefore(vm: string, plugin: string, command: string): Promise<void> {
    try {
      await this.options.beforeRisky?.(vm, plugin, command);
    } catch (err) {
      const code = err instanceof XrayError ? err.code : 'internal';
      throw new XrayError(code, `Plugin "${plugin}" command "${command}" did not reach VM "${vm}", because the automatic snapshot before it failed: ${errorMessage(err)}`, { cause: err });
    }
  }

  private async loadOne(name: string, file: string, earlier: readonly LoadedPlugin[]): Promise<LoadedPlugin> {
    const failed = (error: string): LoadedPlugin => ({ info: { name, file, commands: [], hooks: [], error }, commands: {}, hooks: {} });
    const problem = nameProblem(name);
    if (problem) return failed(`the file name ${problem}; rename it`);
    if (earlier.some((p) => p.info.name === name)) return failed(`another plugin file is also named "${name}"; remove one`);
    let mod: Record<string, unknown>;
    try {
      const { mtimeMs } = await stat(file);
      mod = await this.importModule(`${pathToFileURL(file).href}?v=${Math.trunc(mtimeMs)}`);
    } catch (err) {
      return failed(`it threw while loading: ${errorMessage(err)}`);
    }
    pluginModule ??= buildPluginModule();
    const parsed = pluginModule.safeParse({ commands: mod.commands, hooks: mod.hooks });
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')} ${i.message}` : i.message));
      return failed(`its exports are not a plugin: ${issues.join('; ')}`);
    }
    const commands = (parsed.data.commands ?? {}) as Record<string, PluginCommand>;
    const hooks: Partial<Record<HookType, LoadedHook>> = {};
    for (const type of HOOK_TYPES) {
      const given = parsed.data.hooks?.[type] as PluginHookFn | { run: PluginHookFn; risky?: boolean } | undefined;
      if (given) hooks[type] = typeof given === 'function' ? { run: given, risky: false } : { run: given.run, risky: given.risky === true };
    }
    return {
      info: {
        name,
        file,
        commands: Object.entries(commands).map(([command, c]) => ({ name: command, description: c.description, risky: c.risky === true })),
        hooks: HOOK_TYPES.filter((t) => hooks[t] !== undefined),
        error: null,
      },
      commands,
      hooks,
    };
  }
}

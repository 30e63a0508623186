import { copyFile, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import TOML from '@iarna/toml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import { XrayError } from '../../../src-main/shared/errors';
import { HookRunner } from '../../../src-main/core/hooks/runner';
import { HomePaths } from '../../../src-main/core/paths';
import { PluginHost } from '../../../src-main/core/plugins/host';
import { connectVm, vmSshTarget } from '../../../src-main/core/ssh/connect';
import { SettingsStore } from '../../../src-main/core/store/settings';
import { VM_CONFIG_DEFAULTS, VmStore } from '../../../src-main/core/store/vm-config';
import { REPO } from '../../helpers/cli';
import { makeSshd, type TestSshd } from '../ssh/sshd';

let root: string;
let paths: HomePaths;
let store: VmStore;
let settings: SettingsStore;
let sshd: TestSshd;

beforeAll(async () => {
  sshd = await makeSshd();
  await sshd.start();
});

afterAll(async () => {
  await sshd.cleanup();
});

beforeEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = await mkdtemp(join(tmpdir(), 'xray-plugins-'));
  paths = new HomePaths(root);
  store = new VmStore(paths);
  settings = new SettingsStore(paths);
  await mkdir(paths.pluginsDir, { recursive: true });
  await store.write('web', {
    base: 'debian', memoryMb: VM_CONFIG_DEFAULTS.memoryMb, cpus: 1, ports: [], sshPort: sshd.port, sshUser: sshd.user,
    firewallConfigured: false, firstBootCompleted: true, firewall: {}, plugins: {}, snapshots: {}, autoSnapshots: null, cloudInit: false,
    extra: { note: 'kept' },
  });
  await settings.set('ssh_key', sshd.clientKeyPath);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function host(): PluginHost {
  return new PluginHost({
    paths,
    store,
    connect: async (vm) => connectVm(paths, vm, await vmSshTarget(paths, vm, { store, settings }), { timeoutMs: 15_000 }),
  });
}

const noSession = { session: () => Promise.reject(new Error('no SSH in this test')), output: () => undefined };

describe('PluginHost', () => {
  it('reports a plugin that throws or has the wrong shape and loads the others', async () => {
    await writeFile(join(paths.pluginsDir, 'a-throws.mjs'), 'throw new Error("boom at load");\n');
    await writeFile(join(paths.pluginsDir, 'b-shape.mjs'), 'export const hooks = { reboot: async () => {} };\n');
    await writeFile(join(paths.pluginsDir, 'c-syntax.js'), 'export const commands = {;\n');
    await writeFile(join(paths.pluginsDir, 'd-empty.mjs'), 'export const other = 1;\n');
    await writeFile(
      join(paths.pluginsDir, 'good.mjs'),
      'export const commands = { hi: { description: "say hi", run: (ctx, args) => { ctx.print("hi " + args.join(",")); return "done"; } }, bad: { description: "throws", run: () => { throw new Error("nope"); } } };\n' +
        'export const hooks = { boot: async () => {} };\n',
    );
    await writeFile(join(paths.pluginsDir, 'notes.txt'), 'not a plugin');
    const plugins = host();
    const infos = await plugins.load();
    expect(infos.map((p) => p.name)).toEqual(['a-throws', 'b-shape', 'c-syntax', 'd-empty', 'good']);
    expect(infos[0]?.error).toBe('it threw while loading: boom at load');
    expect(infos[1]?.error).toMatch(/^its exports are not a plugin: hooks .*reboot/);
    expect(infos[2]?.error).toMatch(/^it threw while loading: /);
    expect(infos[3]?.error).toBe('its exports are not a plugin: exports neither "commands" nor "hooks"');
    expect(infos[4]).toEqual({
      name: 'good',
      file: join(paths.pluginsDir, 'good.mjs'),
      commands: [{ name: 'hi', description: 'say hi', risky: false }, { name: 'bad', description: 'throws', risky: false }],
      hooks: ['boot'],
      error: null,
    });
    expect(plugins.hooksFor('boot').map((h) => h.plugin)).toEqual(['good']);
    expect(await plugins.runCommand('good', 'hi', ['x', 'y'])).toEqual({ output: 'hi x,y\ndone\n' });
    await expect(plugins.runCommand('good', 'bad', [])).rejects.toThrow(`Plugin "good" failed in command "bad": nope; fix the plugin or remove ${join(paths.pluginsDir, 'good.mjs')}.`);
    await expect(plugins.runCommand('good', 'nope', [])).rejects.toThrow('Plugin "good" has no command "nope"; it has hi, bad.');
    await expect(plugins.runCommand('a-throws', 'hi', [])).rejects.toThrow(/did not load \(it threw while loading: boom at load\)/);
  });

  it('loads an edited plugin afresh', async () => {
    const file = join(paths.pluginsDir, 'edit.mjs');
    await writeFile(file, 'export const commands = { v: { description: "version", run: () => "one" } };\n');
    const plugins = host();
    expect((await plugins.runCommand('edit', 'v', [])).output).toBe('one\n');
    await writeFile(file, 'export const commands = { v: { description: "version", run: () => "two" } };\n');
    const later = new Date(Date.now() + 5_000);
    await utimes(file, later, later);
    expect((await plugins.runCommand('edit', 'v', [])).output).toBe('two\n');
  });

  it('keeps plugin settings in [plugins.NAME] of vm.toml', async () => {
    await writeFile(
      join(paths.pluginsDir, 'keeper.mjs'),
      `export const hooks = { boot: async (ctx) => {
        await ctx.settings.set('count', ((await ctx.settings.get('count')) ?? 0) + 1);
        await ctx.settings.set('tags', ['a', 'b']);
        await ctx.settings.set('gone', true);
        await ctx.settings.delete('gone');
      } };\n`,
    );
    const plugins = host();
    await plugins.load();
    const [hook] = plugins.hooksFor('boot');
    await hook!.run('web', noSession);
    await hook!.run('web', noSession);
    const raw = TOML.parse(await readFile(paths.vm('web').config, 'utf8'));
    expect(raw.plugins).toEqual({ keeper: { count: 2, tags: ['a', 'b'] } });
    expect(raw.note).toBe('kept');
    expect(await readFile(paths.vm('web').config, 'utf8')).toContain('[plugins.keeper]');

    await writeFile(join(paths.pluginsDir, 'bad-value.mjs'), 'export const hooks = { boot: async (ctx) => { await ctx.settings.set("x", null); } };\n');
    await plugins.load();
    const bad = plugins.hooksFor('boot').find((h) => h.plugin === 'bad-value');
    await expect(bad!.run('web', noSession)).rejects.toThrow('Plugin "bad-value" tried to save setting "x" as null; settings must be strings, numbers, booleans, dates, lists or tables.');
  });

  it('runs the example plugin against a real sshd: boot hook records the kernel, commands read it', async () => {
    await copyFile(join(REPO, 'examples/plugins/hello.mjs'), join(paths.pluginsDir, 'hello.mjs'));
    const plugins = host();
    const [info] = await plugins.load();
    expect(info).toMatchObject({ name: 'hello', hooks: ['boot'], error: null });
    expect(info?.commands.map((c) => c.name)).toEqual(['uptime', 'kernel']);

    const events: XrayEvent[] = [];
    const runner = new HookRunner({ paths, emit: (e) => events.push(e), plugins, store });
    const target = await vmSshTarget(paths, 'web', { store, settings });
    const runs = await runner.runLifecycle('web', 'start', target);
    expect(runs.map((r) => [r.source, r.script, r.exitCode, r.error])).toEqual([['plugin', 'hello', 0, null]]);
    const kernel = (await readFile('/proc/sys/kernel/ostype', 'utf8')).trim();
    const saved = (await store.read('web')).plugins.hello;
    expect(saved?.kernel).toMatch(new RegExp(`^${kernel} `));
    expect(events).toContainEqual(expect.objectContaining({ type: 'hook.output', script: 'hello', text: `kernel is now ${saved?.kernel}` }));

    const uptime = await plugins.runCommand('hello', 'uptime', ['web']);
    expect(uptime.output).toMatch(/^web: .*up .*load average/);
    expect((await plugins.runCommand('hello', 'kernel', ['web'])).output).toBe(`web: ${saved?.kernel} (seen ${saved?.seen_at})\n`);
    await expect(plugins.runCommand('hello', 'uptime', [])).rejects.toThrow('Plugin "hello" command "uptime" needs a VM; name one.');
  });
  it('snapshots a VM before a risky command first reaches it, and keeps the command off the VM when that failed', async () => {
    const marker = join(root, 'wiped');
    await writeFile(
      join(paths.pluginsDir, 'risky.mjs'),
      `export const commands = {\n` +
        `  wipe: { description: "wipe", risky: true, run: async (ctx, args) => { const vm = ctx.open(args[0]); await vm.run("echo x >> '${marker}'"); await vm.run("echo x >> '${marker}'"); } },\n` +
        `  look: { description: "look", run: async (ctx, args) => { await ctx.open(args[0]).run("true"); } },\n` +
        `};\n`,
    );
    const asked: string[] = [];
    let fail = false;
    const plugins = new PluginHost({
      paths,
      store,
      connect: async (vm) => connectVm(paths, vm, await vmSshTarget(paths, vm, { store, settings }), { timeoutMs: 15_000 }),
      beforeRisky: async (vm, plugin, command) => {
        asked.push(`${vm} ${plugin} ${command}`);
        if (fail) throw new XrayError('busy', 'the VM is busy');
      },
    });
    expect((await plugins.load()).find((p) => p.name === 'risky')?.commands).toEqual([
      { name: 'wipe', description: 'wipe', risky: true },
      { name: 'look', description: 'look', risky: false },
    ]);
    await plugins.runCommand('risky', 'wipe', ['web']);
    await plugins.runCommand('risky', 'look', ['web']);
    expect(asked).toEqual(['web risky wipe']);
    expect(await readFile(marker, 'utf8')).toBe('x\nx\n');
    fail = true;
    await expect(plugins.runCommand('risky', 'wipe', ['web'])).rejects.toThrow(
      'Plugin "risky" command "wipe" did not reach VM "web", because the automatic snapshot before it failed: the VM is busy',
    );
    expect(await readFile(marker, 'utf8')).toBe('x\nx\n');
  });
});

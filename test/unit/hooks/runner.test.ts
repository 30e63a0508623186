import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import TOML from '@iarna/toml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import { initHookScripts } from '../../../src-main/core/hooks/example';
import type { BuiltInHook, HookTarget } from '../../../src-main/core/hooks/hook-types';
import { HookRunner } from '../../../src-main/core/hooks/runner';
import { HomePaths } from '../../../src-main/core/paths';
import { PluginHost } from '../../../src-main/core/plugins/host';
import { readPrivateKey } from '../../../src-main/core/ssh/keys';
import { waitForSsh } from '../../../src-main/core/ssh/wait';
import { VM_CONFIG_DEFAULTS } from '../../../src-main/core/store/vm-config';
import { VmStore } from '../../../src-main/core/store/vm-store';
import { makeSshd, type TestSshd } from '../ssh/sshd';
import { waitFor } from '../../helpers/wait';

let sshd: TestSshd;
let root: string;
let paths: HomePaths;
let store: VmStore;
let target: HookTarget;
let events: XrayEvent[];

beforeAll(async () => {
  sshd = await makeSshd();
  await sshd.start();
});

afterAll(async () => {
  await sshd.cleanup();
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = await mkdtemp(join(tmpdir(), 'xray-hooks-'));
  paths = new HomePaths(root);
  store = new VmStore(paths);
  events = [];
  await store.write('web', {
    base: 'debian', memoryMb: VM_CONFIG_DEFAULTS.memoryMb, cpus: 1, ports: [], sshPort: sshd.port, sshUser: sshd.user,
    firewallConfigured: false, firstBootCompleted: false, firewall: {}, plugins: {}, snapshots: {}, autoSnapshots: null, cloudInit: false, extra: {},
  });
  target = { host: '127.0.0.1', port: sshd.port, user: sshd.user, keyPath: sshd.clientKeyPath };
});

async function script(dir: string, name: string, body: string, mode = 0o755): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, mode);
  return file;
}

function runner(opts: { builtIns?: BuiltInHook[]; timeoutMs?: number; noSsh?: boolean } = {}): HookRunner {
  const plugins = new PluginHost({ paths, store, connect: () => Promise.reject(new Error('plugin commands are not used here')) });
  return new HookRunner({
    paths,
    store,
    plugins,
    emit: (e) => events.push(e),
    builtIns: opts.builtIns,
    timeoutMs: opts.timeoutMs,
    connect: opts.noSsh ? () => Promise.reject(new Error('SSH must not be opened')) : undefined,
  });
}

describe('HookRunner', () => {
  it('runs built-in, global, VM and plugin hooks in order; a failure is reported and the rest still run', async () => {
    const order = join(root, 'order.txt');
    const builtIns: BuiltInHook[] = [
      {
        name: 'guest-setup',
        type: 'boot',
        async run(ctx) {
          const session = await ctx.session();
          const result = await session.exec(`echo built-in >> '${order}'; echo from-guest`, { onStdout: (t) => ctx.output('stdout', t) });
          if (result.code !== 0) throw new Error('exec failed');
        },
      },
      { name: 'broken-built-in', type: 'boot', run: async () => { throw new Error('The guest has no apt.'); } },
      { name: 'create-only', type: 'create', run: async () => { throw new Error('must not run at boot'); } },
    ];
    const global = paths.globalScripts('boot');
    const own = paths.vm('web').scripts('boot');
    await script(global, '20-b', `echo 20-b >> '${order}'`);
    await script(global, '10-a', `echo 10-a >> '${order}'`);
    const skipped = await script(global, '15-not-executable', `echo never >> '${order}'`, 0o644);
    await script(global, '.hidden', `echo never >> '${order}'`);
    await script(own, '01-env', `echo 01-env >> '${order}'; env | grep -E '^(XRAY_|PATH=)' | sort > '${join(root, 'env.txt')}'`);
    await script(own, '02-fail', `echo 02-fail >> '${order}'; echo "disk full" >&2; exit 3`);
    await script(own, '03-after', `echo 03-after >> '${order}'; printf 'one\\ntwo'`);
    await mkdir(paths.pluginsDir, { recursive: true });
    await writeFile(join(paths.pluginsDir, 'zz.mjs'), `export const hooks = { boot: async (ctx) => { await ctx.run("echo plugin >> '${order}'"); } };\n`);
    await writeFile(join(paths.pluginsDir, 'broken.mjs'), 'throw new Error("bad plugin");\n');

    const hooks = runner({ builtIns });
    expect(await hooks.list('web', 'boot')).toEqual([
      { type: 'boot', script: 'guest-setup', source: 'built-in', risky: false },
      { type: 'boot', script: 'broken-built-in', source: 'built-in', risky: false },
      { type: 'boot', script: '10-a', source: 'global', risky: false },
      { type: 'boot', script: '20-b', source: 'global', risky: false },
      { type: 'boot', script: '01-env', source: 'vm', risky: false },
      { type: 'boot', script: '02-fail', source: 'vm', risky: false },
      { type: 'boot', script: '03-after', source: 'vm', risky: false },
      { type: 'boot', script: 'zz', source: 'plugin', risky: false },
    ]);

    const runs = await hooks.run('web', 'boot', target);
    expect((await readFile(order, 'utf8')).split('\n')).toEqual(['built-in', '10-a', '20-b', '01-env', '02-fail', '03-after', 'plugin', '']);
    expect(runs.map((r) => [r.script, r.exitCode, r.error])).toEqual([
      ['guest-setup', 0, null],
      ['broken-built-in', null, 'The guest has no apt.'],
      ['10-a', 0, null],
      ['20-b', 0, null],
      ['01-env', 0, null],
      ['02-fail', 3, 'exited with code 3'],
      ['03-after', 0, null],
      ['zz', 0, null],
    ]);
    expect(runs.every((r) => r.vm === 'web' && r.type === 'boot' && r.finishedAt !== null)).toBe(true);

    const env = await readFile(join(root, 'env.txt'), 'utf8');
    for (const line of [
      `XRAY_HOME=${root}`, 'XRAY_VM_NAME=web', 'XRAY_SSH_HOST=127.0.0.1', `XRAY_SSH_PORT=${sshd.port}`,
      `XRAY_SSH_USER=${sshd.user}`, `XRAY_SSH_KEY=${sshd.clientKeyPath}`, `XRAY_SSH_KNOWN_HOSTS=${paths.vm('web').knownHosts}`,
    ]) {
      expect(env).toContain(`${line}\n`);
    }
    expect(env).toMatch(/^PATH=/m);

    const errors = events.filter((e) => e.type === 'log' && e.level === 'error').map((e) => (e as { message: string }).message);
    expect(errors).toEqual([
      `The boot hook "broken-built-in" (built-in) of VM "web" failed: The guest has no apt; the VM keeps running, see ${paths.vm('web').hookLog}.`,
      `The boot hook "02-fail" (vm) of VM "web" failed: exited with code 3; the VM keeps running, see ${paths.vm('web').hookLog}.`,
    ]);
    expect(events).toContainEqual({ type: 'log', level: 'warn', source: 'hooks', message: `The hook script ${skipped} is not executable, so it was skipped; run "chmod +x ${skipped}" to run it.` });
    expect(events).toContainEqual({ type: 'hook.output', vm: 'web', script: '02-fail', stream: 'stderr', text: 'disk full' });
    expect(events).toContainEqual({ type: 'hook.output', vm: 'web', script: 'guest-setup', stream: 'stdout', text: 'from-guest' });
    const outputOf03 = events.filter((e) => e.type === 'hook.output' && e.script === '03-after').map((e) => (e as { text: string }).text);
    expect(outputOf03).toEqual(['one', 'two']);
    const kinds = events.filter((e) => e.type.startsWith('hook.') && 'run' in e && e.run.script === '10-a').map((e) => e.type);
    expect(kinds).toEqual(['hook.started', 'hook.finished']);

    const log = await readFile(paths.vm('web').hookLog, 'utf8');
    expect(log).toMatch(/^\S+Z \[boot\] vm:02-fail stderr: disk full$/m);
    expect(log).toMatch(/^\S+Z \[boot\] vm:02-fail failed: exited with code 3$/m);
    expect(log).toMatch(/^\S+Z \[boot\] global:10-a succeeded$/m);
    expect((await stat(paths.vm('web').hookLog)).mode & 0o777).toBe(0o600);
  });

  it('kills a script that runs past its timeout, with everything it started, and goes on', async () => {
    const own = paths.vm('web').scripts('boot');
    const pidFile = join(root, 'child.pid');
    await script(own, '10-hang', `sleep 60 &\necho $! > '${pidFile}'\necho waiting\nsleep 60`);
    await script(own, '20-next', 'echo next ran');
    const started = Date.now();
    const runs = await runner({ timeoutMs: 500, noSsh: true }).run('web', 'boot', target);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(runs.map((r) => [r.script, r.error])).toEqual([
      ['10-hang', 'it did not finish within 0.5 s and was killed'],
      ['20-next', null],
    ]);
    const child = Number((await readFile(pidFile, 'utf8')).trim());
    // Gone, or a zombie waiting for a container's PID 1 to reap it: either way, no longer running.
    const state = () => readFile(`/proc/${child}/stat`, 'utf8').then((s) => s.split(') ')[1]?.[0], () => 'gone');
    await waitFor('the script\'s child to be killed', async () => ['gone', 'Z'].includes((await state()) ?? ''), 5_000);
    expect(events).toContainEqual({ type: 'hook.output', vm: 'web', script: '10-hang', stream: 'stdout', text: 'waiting' });
  });

  it('keeps a record of each finished run with how long it took and the end of its output', async () => {
    const own = paths.vm('web').scripts('boot');
    await script(own, '10-chatty', 'for i in $(seq 1 250); do echo "line $i"; done\necho oops >&2\nexit 3');
    const hooks = runner({ noSsh: true });
    await hooks.run('web', 'boot', target);
    const [record] = await hooks.runs('web', 10);
    expect(record?.run).toMatchObject({ script: '10-chatty', source: 'vm', exitCode: 3, error: 'exited with code 3' });
    expect(record?.durationMs).toBeGreaterThanOrEqual(0);
    expect(record?.output).toHaveLength(200);
    expect(record?.output.at(-1)).toEqual({ stream: 'stderr', text: 'oops' });
    expect(record?.output[0]).toEqual({ stream: 'stdout', text: 'line 52' });
  });

  it('times out an in-process hook too', async () => {
    const builtIns: BuiltInHook[] = [{ name: 'slow', type: 'boot', run: (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve())) }];
    const runs = await runner({ builtIns, timeoutMs: 300, noSsh: true }).run('web', 'boot', target);
    expect(runs.map((r) => [r.script, r.exitCode, r.error])).toEqual([['slow', null, 'it did not finish within 0.3 s']]);
  });

  it('asks for the SSH target (which makes the VM key) only when a hook runs, and once', async () => {
    const hooks = runner({ noSsh: true });
    let asked = 0;
    const lazyTarget = async () => {
      asked += 1;
      return target;
    };
    expect(await hooks.runLifecycle('web', 'create', lazyTarget)).toEqual([]);
    expect(asked).toBe(0);

    await script(paths.globalScripts('create'), '10-port', `echo "$XRAY_SSH_PORT" > '${join(root, 'port')}'`);
    await script(paths.globalScripts('create'), '20-again', 'true');
    expect((await hooks.runLifecycle('web', 'create', lazyTarget)).map((r) => [r.script, r.exitCode])).toEqual([['10-port', 0], ['20-again', 0]]);
    expect(asked).toBe(1);
    expect(await readFile(join(root, 'port'), 'utf8')).toBe(`${target.port}\n`);
  });

  it('runs initial-boot hooks at each start until they all succeed once, then only boot hooks', async () => {
    const count = join(root, 'initial-count');
    const okFlag = join(root, 'ok');
    await script(paths.vm('web').scripts('initial-boot'), '10-setup', `echo run >> '${count}'\n[ -f '${okFlag}' ]`);
    await script(paths.globalScripts('boot'), '10-boot', 'true');
    await script(paths.globalScripts('create'), '10-create', `echo created > '${join(root, 'created')}'`);
    const hooks = runner({ noSsh: true });
    const firstBootCompleted = async () => TOML.parse(await readFile(paths.vm('web').config, 'utf8')).first_boot_completed;

    expect((await hooks.runLifecycle('web', 'create', target)).map((r) => r.script)).toEqual(['10-create']);
    expect(await readFile(join(root, 'created'), 'utf8')).toBe('created\n');

    const first = await hooks.runLifecycle('web', 'start', target);
    expect(first.map((r) => [r.type, r.script, r.exitCode])).toEqual([['initial-boot', '10-setup', 1], ['boot', '10-boot', 0]]);
    expect(await firstBootCompleted()).toBe(false);

    await writeFile(okFlag, '');
    const second = await hooks.runLifecycle('web', 'start', target);
    expect(second.map((r) => [r.type, r.exitCode])).toEqual([['initial-boot', 0], ['boot', 0]]);
    expect(await firstBootCompleted()).toBe(true);

    const third = await hooks.runLifecycle('web', 'start', target);
    expect(third.map((r) => r.type)).toEqual(['boot']);
    expect(await readFile(count, 'utf8')).toBe('run\nrun\n');

    await hooks.resetInitialBoot('web');
    expect(await firstBootCompleted()).toBe(false);
    expect((await hooks.runLifecycle('web', 'start', target)).map((r) => r.type)).toEqual(['initial-boot', 'boot']);
    expect(await readFile(count, 'utf8')).toBe('run\nrun\nrun\n');
  });

  it('writes a commented, executable example that works against a real guest', async () => {
    const hooks = runner();
    const { path, created } = await initHookScripts(paths, store, 'web');
    expect(created).toBe(true);
    expect(path).toBe(join(paths.vm('web').scripts('boot'), '50-example.sh'));
    expect((await stat(path)).mode & 0o777).toBe(0o700);
    for (const type of ['create', 'initial-boot'] as const) expect((await stat(paths.vm('web').scripts(type))).isDirectory()).toBe(true);
    expect(await readFile(path, 'utf8')).toContain('# Hook scripts run on the HOST');
    expect(await initHookScripts(paths, store, 'web')).toEqual({ path, created: false });
    expect((await initHookScripts(paths, store)).path).toBe(join(paths.globalScripts('boot'), '50-example.sh'));
    await expect(initHookScripts(paths, store, 'nope')).rejects.toThrow('VM "nope" does not exist');

    const session = await waitForSsh({
      host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: await readPrivateKey(sshd.clientKeyPath),
      knownHosts: paths.vm('web').knownHosts, vm: 'web', timeoutMs: 15_000,
    });
    try {
      const runs = await hooks.run('web', 'boot', target, session);
      expect(runs.map((r) => [r.source, r.script, r.exitCode, r.error])).toEqual([['global', '50-example.sh', 0, null], ['vm', '50-example.sh', 0, null]]);
      const lines = events.filter((e) => e.type === 'hook.output' && e.script === '50-example.sh').map((e) => (e as { text: string }).text);
      expect(lines[0]).toBe(`VM web is up (boot hook); SSH on 127.0.0.1:${sshd.port}`);
      expect(lines[1]).toMatch(/^Linux /);
      expect(session.isOpen).toBe(true);
    } finally {
      session.close();
    }
  });
});

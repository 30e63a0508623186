import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Method, Params, Results, XrayApi } from '../../../src-main/shared/contract';
import { EventBus } from '../../../src-main/core/events';
import { HookRunner } from '../../../src-main/core/hooks/runner';
import { HomePaths } from '../../../src-main/core/paths';
import { PluginHost } from '../../../src-main/core/plugins/host';
import { connectVm, vmSshTarget } from '../../../src-main/core/ssh/connect';
import { SettingsStore } from '../../../src-main/core/store/settings';
import { VM_CONFIG_DEFAULTS } from '../../../src-main/core/store/vm-config';
import { VmStore } from '../../../src-main/core/store/vm-store';
import { fakeCli, summary } from '../../helpers/cli-context';
import { makeSshd, type TestSshd } from './sshd';

let sshd: TestSshd;
let root: string;
let paths: HomePaths;

beforeAll(async () => {
  sshd = await makeSshd();
  await sshd.start();
  root = await mkdtemp(join(tmpdir(), 'xray-guest-cli-'));
  paths = new HomePaths(root);
  await new VmStore(paths).write('web', {
    base: 'debian', memoryMb: VM_CONFIG_DEFAULTS.memoryMb, cpus: 1, ports: [], sshPort: sshd.port, sshUser: sshd.user,
    firewallConfigured: false, firstBootCompleted: true, firewall: {}, plugins: {}, snapshots: {}, autoSnapshots: null, cloudInit: false, extra: {},
  });
  await new SettingsStore(paths).set('ssh_key', sshd.clientKeyPath);
});

afterAll(async () => {
  await sshd.cleanup();
  await rm(root, { recursive: true, force: true });
});

/**
 * serviceApi answers the hooks.* and plugin.* methods the way the service
 * does, from a real HookRunner and PluginHost, and lists the VM as running.
 */
function serviceApi(): XrayApi {
  const store = new VmStore(paths);
  const settings = new SettingsStore(paths);
  const bus = new EventBus();
  const plugins = new PluginHost({ paths, store, connect: async (vm) => connectVm(paths, vm, await vmSshTarget(paths, vm, { store, settings }), { timeoutMs: 15_000 }) });
  const hooks = new HookRunner({ paths, store, plugins, emit: (e) => bus.emit(e) });
  const handlers: { [M in Method]?: (params: Params<M>) => Promise<Results[M]> } = {
    'vm.list': async () => [summary('web', { state: 'ready', sshPort: sshd.port, sshUser: sshd.user })],
    'hooks.list': (p) => hooks.list(p.vm),
    'hooks.run': async (p) => hooks.run(p.vm, p.type, await vmSshTarget(paths, p.vm, { store, settings })),
    'hooks.resetInitialBoot': async (p) => {
      await hooks.resetInitialBoot(p.vm);
      return null;
    },
    'plugin.list': () => plugins.load(),
    'plugin.run': (p) => plugins.runCommand(p.plugin, p.command, p.args ?? []),
  };
  return {
    call: <M extends Method>(method: M, params: Params<M>) => (handlers[method] as (p: Params<M>) => Promise<Results[M]>)(params),
    subscribe: (listener) => bus.subscribe(listener),
  };
}

/** xray runs a command through the CLI's run seam, with ssh in batch mode so a test never waits for a password. */
async function xray(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  let sshOut = '';
  let sshErr = '';
  const cli = fakeCli(serviceApi(), {
    overrides: {
      paths,
      runSsh: async (sshArgs) => {
        const result = spawnSync('ssh', ['-o', 'BatchMode=yes', ...sshArgs], { encoding: 'utf8', timeout: 30_000 });
        sshOut += result.stdout;
        sshErr += result.stderr;
        return result.status ?? 1;
      },
    },
  });
  const code = await cli.run(...args);
  return { stdout: cli.stdout() + sshOut, stderr: cli.stderr() + sshErr, code };
}

describe('guest commands', () => {
  it('ssh runs a command with the VM key, pins the host key, and passes the exit code through', async () => {
    const result = await xray(['ssh', 'web', '--', 'sh', '-c', '"echo hi from $(whoami); exit 7"']);
    expect(result).toEqual({ stdout: `hi from ${sshd.user}\n`, stderr: '', code: 7 });
    // Debian's ssh_config hashes host names; Xray's own connection must accept that pin and add none.
    const pinned = await readFile(paths.vm('web').knownHosts, 'utf8');
    expect(pinned).toMatch(/^\S+ ssh-ed25519 \S+\n$/);
    const store = new VmStore(paths);
    const settings = new SettingsStore(paths);
    (await connectVm(paths, 'web', await vmSshTarget(paths, 'web', { store, settings }), { timeoutMs: 10_000 })).close();
    expect(await readFile(paths.vm('web').knownHosts, 'utf8')).toBe(pinned);
    expect(await xray(['ssh', 'web', '--', 'true'])).toEqual({ stdout: '', stderr: '', code: 0 });

    await sshd.start({ newHostKey: true });
    const changed = await xray(['ssh', 'web', '--', 'true']);
    expect(changed.code).toBe(255);
    expect(changed.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    expect((await xray(['ssh-forget', 'web'])).stdout).toBe('Forgot the SSH host key of VM "web"; the next connection pins the key the guest then shows.\n');
    expect((await xray(['ssh-forget', 'web'])).stdout).toBe('No SSH host key was pinned for VM "web".\n');
    expect((await xray(['ssh', 'web', '--', 'echo', 'again'])).stdout).toBe('again\n');
  });

  it('ssh-config prints a block OpenSSH can use as is', async () => {
    const { stdout } = await xray(['ssh-config', 'web']);
    expect(stdout).toBe(
      [
        'Host xray-web', '  HostName 127.0.0.1', `  Port ${sshd.port}`, `  User ${sshd.user}`, `  IdentityFile ${sshd.clientKeyPath}`,
        '  IdentitiesOnly yes', `  UserKnownHostsFile ${paths.vm('web').knownHosts}`, '  StrictHostKeyChecking accept-new', '',
      ].join('\n'),
    );
    const config = join(root, 'ssh_config');
    await writeFile(config, stdout);
    const ssh = spawnSync('ssh', ['-F', config, '-o', 'BatchMode=yes', 'xray-web', 'echo', 'via-config'], { encoding: 'utf8', timeout: 30_000 });
    expect(ssh.stdout).toBe('via-config\n');
    const missing = await xray(['ssh-config', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^xray: VM "nope" does not exist/);
  });

  it('hooks init, list, run and reset-initial-boot', async () => {
    const init = await xray(['hooks', 'init', 'web']);
    expect(init.stdout).toBe(`Wrote the example hook ${join(paths.vm('web').scripts('boot'), '50-example.sh')}; edit it, or delete it if you do not want it to run.\n`);
    await mkdir(paths.globalScripts('boot'), { recursive: true });
    const failing = join(paths.globalScripts('boot'), '10-fail');
    await writeFile(failing, '#!/bin/sh\necho nope >&2\nexit 4\n');
    await chmod(failing, 0o755);

    expect((await xray(['hooks', 'list', 'web'])).stdout).toBe('TYPE  SOURCE  RISKY  HOOK\nboot  global  no     10-fail\nboot  vm      no     50-example.sh\n');
    const run = await xray(['hooks', 'run', 'web', 'boot']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('10-fail: nope\n');
    expect(run.stdout).toContain(`50-example.sh: VM web is up (boot hook); SSH on 127.0.0.1:${sshd.port}\n`);
    expect(run.stdout).toContain('1 of 2 boot hooks succeeded; see ');
    expect(run.stderr).toBe('xray: 10-fail (global) failed: exited with code 4\n');
    expect(await xray(['hooks', 'run', 'web', 'reboot'])).toEqual({ stdout: '', stderr: 'xray: "reboot" is not a hook type; use create, initial-boot, boot.\n', code: 1 });

    expect((await xray(['hooks', 'reset-initial-boot', 'web'])).stdout).toBe('VM "web" will run its initial-boot hooks at its next start.\n');
    expect((await new VmStore(paths).read('web')).firstBootCompleted).toBe(false);
  });

  it('plugin list and run', async () => {
    await mkdir(paths.pluginsDir, { recursive: true });
    await writeFile(join(paths.pluginsDir, 'who.mjs'), 'export const commands = { whoami: { description: "who logs in", run: async (ctx, [vm]) => (await ctx.open(vm).run("whoami")).stdout }, wipe: { description: "wipes /tmp", risky: true, run: async () => "" } };\n');
    await writeFile(join(paths.pluginsDir, 'broken.mjs'), 'throw new Error("oops");\n');
    expect((await xray(['plugin', 'list'])).stdout).toBe('broken  failed to load: it threw while loading: oops\nwho\n  whoami  who logs in\n  wipe  wipes /tmp  risky: snapshots each VM first\n');
    expect((await xray(['plugin', 'run', 'who', 'whoami', 'web'])).stdout).toBe(`${sshd.user}\n`);
  });
});

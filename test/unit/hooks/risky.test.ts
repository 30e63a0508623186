import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HookRunner } from '../../../src-main/core/hooks/runner';
import { HomePaths } from '../../../src-main/core/paths';
import { PluginHost } from '../../../src-main/core/plugins/host';
import { VM_CONFIG_DEFAULTS, VmStore } from '../../../src-main/core/store/vm-config';
import type { AutoMoment } from '../../../src-main/core/vms/auto-snapshots';

// The snapshots are recorded, not taken (AutoSnapshots itself is tested in test/unit/vms/auto-snapshots.test.ts and
// through the CLI in test/cli/auto-snapshots.test.ts); the scripts and plugins are real and run for real.
let root: string;
let paths: HomePaths;
let store: VmStore;
let order: string;
let failSnapshots: boolean;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'xray-risky-'));
  paths = new HomePaths(root);
  store = new VmStore(paths);
  order = join(root, 'order.txt');
  failSnapshots = false;
  await store.write('web', {
    base: 'debian', memoryMb: VM_CONFIG_DEFAULTS.memoryMb, cpus: 1, ports: [], sshPort: 2222, sshUser: 'debian',
    firewallConfigured: false, firstBootCompleted: false, firewall: {}, plugins: {}, snapshots: {}, autoSnapshots: null, cloudInit: false, extra: {},
  });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function script(dir: string, name: string, body: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), `#!/bin/sh\n${body}\n`);
  await chmod(join(dir, name), 0o755);
}

function runner(): HookRunner {
  const plugins = new PluginHost({ paths, store, connect: () => Promise.reject(new Error('plugin commands are not used here')) });
  const snapshots = {
    take: async (vm: string, moment: AutoMoment) => {
      await appendFile(order, `snapshot ${vm} ${moment.kind === 'first-boot' ? 'first-boot' : moment.step}\n`);
      if (failSnapshots) throw new Error('the disk is full');
      return null;
    },
  };
  return new HookRunner({ paths, store, plugins, snapshots, emit: () => undefined, connect: () => Promise.reject(new Error('SSH must not be opened')) });
}

describe('risky hooks', () => {
  beforeEach(async () => {
    await script(paths.vm('web').scripts('boot'), '10-plain', `echo 10-plain >> '${order}'`);
    await script(paths.vm('web').scripts('boot'), '20-upgrade', `# Upgrades every package.\n# xray: risky = true\necho 20-upgrade >> '${order}'`);
    await script(paths.globalScripts('boot'), '05-says-risky', `# xray: risky = false\necho 05-says-risky >> '${order}'`);
    await mkdir(paths.pluginsDir, { recursive: true });
    await writeFile(join(paths.pluginsDir, 'agent.mjs'), `import { appendFileSync } from 'node:fs';\nexport const hooks = { boot: { risky: true, run: () => appendFileSync('${order}', 'agent\\n') } };\n`);
  });

  it('are listed as risky: a script by its "# xray: risky = true" line, a plugin hook by risky: true', async () => {
    expect((await runner().list('web', 'boot')).map((h) => [h.script, h.risky])).toEqual([
      ['05-says-risky', false],
      ['10-plain', false],
      ['20-upgrade', true],
      ['agent', true],
    ]);
  });

  it('get a snapshot just before they run, and only they', async () => {
    const runs = await runner().run('web', 'boot', { host: '127.0.0.1', port: 1, user: 'x', keyPath: '/none' });
    expect(runs.map((r) => [r.script, r.exitCode])).toEqual([['05-says-risky', 0], ['10-plain', 0], ['20-upgrade', 0], ['agent', 0]]);
    expect(await readFile(order, 'utf8')).toBe('05-says-risky\n10-plain\nsnapshot web 20-upgrade\n20-upgrade\nsnapshot web agent\nagent\n');
  });

  it('do not run when the snapshot before them failed, and say so; the other hooks still run', async () => {
    failSnapshots = true;
    const runs = await runner().run('web', 'boot', { host: '127.0.0.1', port: 1, user: 'x', keyPath: '/none' });
    expect(runs.map((r) => [r.script, r.exitCode, r.error])).toEqual([
      ['05-says-risky', 0, null],
      ['10-plain', 0, null],
      ['20-upgrade', null, 'it did not run, because the automatic snapshot before it failed: the disk is full'],
      ['agent', null, 'it did not run, because the automatic snapshot before it failed: the disk is full'],
    ]);
    expect(await readFile(order, 'utf8')).toBe('05-says-risky\n10-plain\nsnapshot web 20-upgrade\nsnapshot web agent\n');
  });
});

describe('the first boot', () => {
  it('is followed by one snapshot, after its initial-boot and boot hooks, only once they all succeeded', async () => {
    const ok = join(root, 'ok');
    await script(paths.vm('web').scripts('initial-boot'), '10-setup', `echo setup >> '${order}'\n[ -f '${ok}' ]`);
    await script(paths.vm('web').scripts('boot'), '10-boot', `echo boot >> '${order}'`);
    const hooks = runner();
    const target = { host: '127.0.0.1', port: 1, user: 'x', keyPath: '/none' };
    await hooks.runLifecycle('web', 'start', target);
    await writeFile(ok, '');
    await hooks.runLifecycle('web', 'start', target);
    await hooks.runLifecycle('web', 'start', target);
    expect(await readFile(order, 'utf8')).toBe('setup\nboot\nsetup\nboot\nsnapshot web first-boot\nboot\n');
  });
});

// CLI commands driven through the run seam over a fake API: which way each
// reaches the API, that every connection is closed, and how failures end.
import { describe, expect, it } from 'vitest';
import { FakeApi, fakeCli, summary } from '../../helpers/cli-context';

describe('reaching the API', () => {
  it('lists VMs through the files API, starting no supervisor, and closes the connection', async () => {
    const cli = fakeCli(new FakeApi({ 'vm.list': [summary('web')] }));
    expect(await cli.run('list')).toBe(0);
    expect(cli.stdout()).toMatch(/^NAME +STATUS +BASE/);
    expect(cli.stdout()).toMatch(/\nweb +stopped +deb +256 MB/);
    expect(cli.reached).toEqual(['files']);
    expect(cli.closed.count).toBe(1);
  });

  it('stops a stopped VM in process, without a supervisor', async () => {
    const api = new FakeApi({ 'vm.list': [summary('web')], 'vm.stop': { ...summary('web'), stoppedBy: null } });
    const cli = fakeCli(api);
    expect(await cli.run('stop', 'web')).toBe(0);
    expect(cli.reached).toEqual(['files']);
    expect(api.callsOf('vm.stop')).toEqual([{ name: 'web', force: undefined }]);
    expect(cli.stdout()).toBe('VM "web" is stopped.\n');
  });

  it('stops a running VM that no supervisor holds through a supervisor started to adopt it, closing both connections', async () => {
    const files = new FakeApi({ 'vm.list': [summary('web', { state: 'ready', pid: 42 })] });
    const engine = new FakeApi({ 'vm.stop': { ...summary('web'), stoppedBy: 'kill' } });
    const cli = fakeCli(files, { supervisor: engine });
    expect(await cli.run('stop', 'web', '--force')).toBe(0);
    expect(cli.reached).toEqual(['files', 'supervisor']);
    expect(engine.callsOf('vm.stop')).toEqual([{ name: 'web', force: true }]);
    expect(cli.closed.count).toBe(2);
    expect(cli.stdout()).toBe('VM "web" was killed.\n');
  });

  it('asks a running supervisor directly when it answers the files API', async () => {
    const api = new FakeApi({ 'snapshot.create': { name: 'snap', date: '2025-01-01', vmStateSize: 1, hasMemory: true, description: null } });
    const cli = fakeCli(api, { local: false });
    expect(await cli.run('snapshot', 'create', 'web', 'snap')).toBe(0);
    expect(cli.reached).toEqual(['files']);
    expect(api.calls.map((c) => c.method)).toEqual(['snapshot.create']);
    expect(cli.stdout()).toBe('Took snapshot "snap" of VM "web" with memory.\n');
  });

  it('starts a VM through the supervisor', async () => {
    const api = new FakeApi({ 'vm.start': summary('web', { state: 'booting', sshPort: 2301 }) });
    const cli = fakeCli(api);
    expect(await cli.run('start', 'web', '--no-hooks', '--allow-all')).toBe(0);
    expect(cli.reached).toEqual(['supervisor']);
    expect(api.callsOf('vm.start')).toEqual([{ name: 'web', noHooks: true, allowAll: true, display: undefined, fromSnapshot: undefined }]);
    expect(cli.stdout()).toBe('VM "web" is booting; SSH on 127.0.0.1:2301.\n');
    expect(cli.closed.count).toBe(1);
  });

  it('reads rules, logs and prompts from the files API', async () => {
    const api = new FakeApi({ 'firewall.rules': [], 'firewall.log': [], 'prompt.list': [] });
    const cli = fakeCli(api);
    expect(await cli.run('firewall', 'list', 'web')).toBe(0);
    expect(await cli.run('firewall', 'log', 'web', '-n', '5')).toBe(0);
    expect(await cli.run('firewall', 'prompts')).toBe(0);
    expect(cli.reached).toEqual(['files', 'files', 'files']);
    expect(api.callsOf('firewall.log')).toEqual([{ vm: 'web', limit: 5 }]);
  });

  it('adds a rule until the VM stops through the supervisor that runs the VM', async () => {
    const files = new FakeApi({ 'vm.list': [summary('web', { state: 'ready', pid: 42 })] });
    const engine = new FakeApi({ 'firewall.add': { id: 'example.com', target: { kind: 'domain', domain: 'example.com', port: null }, action: 'allow', lifetime: { kind: 'until-stop' }, source: 'session' } });
    const cli = fakeCli(files, { supervisor: engine });
    expect(await cli.run('firewall', 'add', 'web', 'allow', 'example.com', '--until-stop')).toBe(0);
    expect(cli.reached).toEqual(['files', 'supervisor']);
    expect(cli.stdout()).toBe('Allowed example.com for VM "web" (until the VM stops).\n');
  });

  it('closes the connection when the call fails', async () => {
    const cli = fakeCli(new FakeApi({}));
    expect(await cli.run('port', 'list', 'web')).toBe(1);
    expect(cli.closed.count).toBe(1);
  });
});

describe('how commands end', () => {
  it('prints a refused request as one line on stderr and exits 1', async () => {
    const cli = fakeCli(new FakeApi({}));
    expect(await cli.run('port', 'add', 'web', '80')).toBe(1);
    expect(cli.stderr()).toBe('xray: The port mapping "80" is not HOST:GUEST with ports from 1 to 65535; write it like 8080:80.\n');
    expect(cli.reached).toEqual([]);
  });

  it('refuses to delete without a terminal unless --force, and deletes with it', async () => {
    const api = new FakeApi({ 'vm.remove': null });
    const cli = fakeCli(api);
    expect(await cli.run('remove', 'web')).toBe(1);
    expect(cli.stderr()).toBe('xray: Delete VM "web" and its disk: not asking without a terminal; pass --force to go ahead.\n');
    expect(api.calls).toEqual([]);
    expect(await cli.run('rm', 'web', '--force')).toBe(0);
    expect(api.callsOf('vm.remove')).toEqual([{ name: 'web', force: true }]);
  });

  it('deletes on a terminal when the person says yes', async () => {
    const api = new FakeApi({ 'vm.list': [summary('web')], 'snapshot.delete': null });
    const cli = fakeCli(api, { tty: true });
    cli.stdin.write('y\n');
    expect(await cli.run('snapshot', 'delete', 'web', 'old')).toBe(0);
    expect(cli.stdout()).toContain('Delete snapshot "old" of VM "web"? [y/N] ');
    expect(api.callsOf('snapshot.delete')).toEqual([{ vm: 'web', name: 'old' }]);
  });

  it('changes nothing on a terminal when the person says no', async () => {
    const api = new FakeApi({ 'snapshot.revert': null });
    const cli = fakeCli(api, { tty: true });
    cli.stdin.write('n\n');
    expect(await cli.run('snapshot', 'revert', 'web', 'old')).toBe(1);
    expect(cli.stderr()).toBe('xray: Nothing was changed.\n');
    expect(api.calls).toEqual([]);
  });

  it('exits 1 after hooks report a failure, having printed each', async () => {
    const failed = { vm: 'web', type: 'boot', script: '10-x', source: 'global', startedAt: '', finishedAt: '', exitCode: 3, error: null } as const;
    const cli = fakeCli(new FakeApi({ 'hooks.run': [failed] }));
    expect(await cli.run('hooks', 'run', 'web', 'boot')).toBe(1);
    expect(cli.stderr()).toBe('xray: 10-x (global) failed: exit code 3\n');
    expect(cli.stdout()).toMatch(/^0 of 1 boot hooks succeeded; see /);
  });

  it('exits 0 for help and the version, 1 for an unknown command', async () => {
    const cli = fakeCli(new FakeApi({}));
    expect(await cli.run('--help')).toBe(0);
    expect(cli.stdout()).toMatch(/^Usage: xray/);
    expect(await cli.run('--version')).toBe(0);
    expect(await cli.run('frobnicate')).toBe(1);
    expect(cli.stderr()).toMatch(/unknown command 'frobnicate'/);
  });
});

// Shell completion decided from the commands' own declarations, asked the way
// the shell scripts ask: `xray __complete -- WORDS…`, the last word being typed.
import { Argument, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { completesOf } from '../../../src-main/cli/declare';
import { buildProgram } from '../../../src-main/cli/program';
import { FakeApi, fakeCli, summary } from '../../helpers/cli-context';

const snapshot = (name: string) => ({ name, date: '2025-01-01', vmStateSize: 0, hasMemory: false, description: null });
const prompt = { id: 'p7', vm: 'web', destination: { ip: '1.2.3.4', port: 443, name: null, nameSource: null, service: null }, openedAt: '', deadline: '', waitingConnections: 1, guestProcess: null };

function api(): FakeApi {
  return new FakeApi({
    'vm.list': [summary('web'), summary('db')],
    'base.list': [{ name: 'debian', arch: 'x86_64', virtualSize: 1, fileSize: 1, linked: false, source: null, importedAt: null, cloudInit: false, usedBy: [] }],
    'snapshot.list': ({ vm }) => (vm === 'web' ? [snapshot('clean'), snapshot('before-upgrade')] : []),
    'prompt.list': [prompt],
  });
}

async function complete(...words: string[]): Promise<string[]> {
  const cli = fakeCli(api());
  expect(await cli.run('__complete', '--', ...words)).toBe(0);
  expect(cli.stderr()).toBe('');
  return cli.stdout().split('\n').filter(Boolean);
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

describe('shell completion', () => {
  it('has every command say what each of its arguments completes to', () => {
    const program = buildProgram(fakeCli(api()).ctx);
    const undeclared = allCommands(program).flatMap((cmd) => cmd.registeredArguments.filter((a: Argument) => completesOf(a) === undefined).map((a) => `${cmd.name()} ${a.name()}`));
    expect(undeclared).toEqual([]);
  });

  it('offers commands, then sub-commands, by prefix', async () => {
    expect(await complete('fi')).toEqual(['firewall']);
    expect(await complete('snapshot', '')).toEqual(['list', 'create', 'revert', 'delete', 'help']);
  });

  it('offers VM names where a VM is expected', async () => {
    expect(await complete('info', '')).toEqual(['web', 'db']);
    expect(await complete('firewall', 'list', 'w')).toEqual(['web']);
  });

  it('offers prompt ids, not VM names, to firewall answer, then the two actions', async () => {
    expect(await complete('firewall', 'answer', '')).toEqual(['p7']);
    expect(await complete('firewall', 'answer', 'p7', '')).toEqual(['allow', 'deny']);
  });

  it('offers the snapshots of the VM named before', async () => {
    expect(await complete('snapshot', 'revert', 'web', '')).toEqual(['clean', 'before-upgrade']);
    expect(await complete('start', 'web', '--snapshot', 'b')).toEqual(['before-upgrade']);
  });

  it('offers base names and choices as option values, skipping values already given', async () => {
    expect(await complete('create', 'new', '--base', '')).toEqual(['debian']);
    expect(await complete('base', 'import', 'x.qcow2', '--arch', '')).toEqual(['aarch64', 'x86_64']);
    expect(await complete('create', 'new', '--base', 'debian', '--memory', '512', '--')).toContain('--cpus');
  });

  it('offers nothing for free text, and leaves file names to the shell', async () => {
    expect(await complete('create', '')).toEqual([]);
    expect(await complete('snapshot', 'create', 'web', '')).toEqual([]);
    expect(await complete('base', 'import', '')).toEqual([':files']);
  });

  it('prints nothing when the names cannot be looked up', async () => {
    const cli = fakeCli(new FakeApi({}));
    expect(await cli.run('__complete', '--', 'info', '')).toBe(0);
    expect(cli.stdout()).toBe('');
    expect(cli.stderr()).toBe('');
  });
});

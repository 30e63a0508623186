// A command line declares only the command groups up to the one holding its
// first word; whatever it runs must be declared exactly as in the full program.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src-main/cli/program';
import { FakeApi, fakeCli } from '../../helpers/cli-context';

/** shape is a command's declaration as a user meets it: usage, options, arguments and sub-commands, all the way down. */
function shape(command: Command): unknown {
  return {
    usage: command.usage(),
    description: command.description(),
    aliases: command.aliases(),
    options: command.options.map((o) => o.flags),
    arguments: command.registeredArguments.map((a) => a.name()),
    commands: command.commands.map(shape),
  };
}

const ctx = () => fakeCli(new FakeApi({})).ctx;

describe('declaring the program', () => {
  it('declares each top-level command, by name or alias, as the full program does', () => {
    const full = buildProgram(ctx());
    const words = full.commands.flatMap((command) => [command.name(), ...command.aliases()]);
    expect(words).toEqual(expect.arrayContaining(['create', 'list', 'ls', 'info', 'firewall', 'completion', '__complete']));
    for (const word of words) {
      const partial = buildProgram(ctx(), word);
      const find = (program: Command) => program.commands.find((c) => c.name() === word || c.aliases().includes(word));
      expect(shape(find(partial)!), word).toEqual(shape(find(full)!));
    }
  });

  it('declares fewer commands for a word of the first group, and every one for an unknown word or none', () => {
    const all = buildProgram(ctx()).commands.length;
    expect(buildProgram(ctx(), 'list').commands.length).toBeLessThan(all);
    expect(buildProgram(ctx(), 'lst').commands.length).toBe(all);
    expect(buildProgram(ctx(), '--help').commands.length).toBe(all);
  });

  it('still suggests the command a typo meant', async () => {
    const cli = fakeCli(new FakeApi({}));
    expect(await cli.run('lst')).toBe(1);
    expect(cli.stderr()).toContain('unknown command');
    expect(cli.stderr()).toContain('list');
  });
});

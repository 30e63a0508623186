// Runs in: plain Node (CLI). Shell completion: `xray completion SHELL` prints
// a small script that asks `xray __complete -- WORDS…` for candidates, so what
// each argument completes to is decided here, from the commands' declarations.
import { Argument, Help, type Command, type Option } from 'commander';
import { withConnection, type CliContext } from '../context';
import { arg, completesOf, type Completes } from '../declare';

export type Shell = 'bash' | 'zsh' | 'fish';
const SHELLS: readonly Shell[] = ['bash', 'zsh', 'fish'];

/** FILES is the line `__complete` prints when the shell should complete file names itself. */
const FILES = ':files';

/** Wanted is what the word under the cursor may be: fixed words, or names Xray looks up (snapshots of `vm`). */
export type Wanted = { readonly words: readonly string[] } | { readonly names: 'vm' | 'base' | 'snapshot' | 'prompt'; readonly vm?: string } | { readonly files: true };

function findOption(cmd: Command, word: string): Option | undefined {
  const flag = word.split('=')[0];
  return cmd.options.find((o) => o.long === flag || o.short === flag);
}

function takesValue(option: Option | undefined): boolean {
  return option !== undefined && (option.required || option.optional);
}

function fromDeclaration(completes: Completes | undefined, vm: string | undefined): Wanted {
  if (completes === undefined || completes === 'nothing') return { words: [] };
  if (completes === 'file') return { files: true };
  if (typeof completes === 'string') return { names: completes, vm };
  return { words: completes };
}

/**
 * wanted walks the words typed after `xray` (the last one is the word being
 * completed) through the command tree and says what that word may be: a
 * sub-command, an option, an option's value, or the argument at its place.
 */
export function wanted(program: Command, words: readonly string[]): Wanted {
  let cmd = program;
  const operands: string[] = [];
  let onlyOperands = false;
  for (let i = 0; i < words.length - 1; i++) {
    const word = words[i]!;
    if (!onlyOperands && word === '--') {
      onlyOperands = true;
    } else if (!onlyOperands && word.startsWith('-')) {
      if (!word.includes('=') && takesValue(findOption(cmd, word))) i++;
    } else {
      const sub = operands.length === 0 ? cmd.commands.find((c) => c.name() === word || c.aliases().includes(word)) : undefined;
      if (sub) cmd = sub;
      else operands.push(word);
    }
  }
  const current = words.at(-1) ?? '';
  const previous = words.at(-2);
  if (!onlyOperands && previous?.startsWith('-') && !previous.includes('=')) {
    const option = findOption(cmd, previous);
    if (takesValue(option)) return fromDeclaration(completesOf(option!), operands[0]);
  }
  if (!onlyOperands && current.startsWith('-')) return { words: [...cmd.options.map((o) => o.long ?? o.short ?? ''), '--help'].filter(Boolean) };
  if (cmd.commands.length > 0 && operands.length === 0) return { words: new Help().visibleCommands(cmd).map((c) => c.name()) };
  const args = cmd.registeredArguments;
  const last = args.at(-1);
  const argument = args[operands.length] ?? (last?.variadic ? last : undefined);
  return argument ? fromDeclaration(completesOf(argument), operands[0]) : { words: [] };
}

async function lookUp(ctx: CliContext, want: Extract<Wanted, { names: string }>): Promise<string[]> {
  return withConnection(ctx, 'files', async (api) => {
    switch (want.names) {
      case 'vm':
        return (await api.call('vm.list', {})).map((vm) => vm.name);
      case 'base':
        return (await api.call('base.list', {})).map((base) => base.name);
      case 'snapshot':
        return want.vm ? (await api.call('snapshot.list', { vm: want.vm })).map((snap) => snap.name) : [];
      case 'prompt':
        return (await api.call('prompt.list', {})).map((prompt) => prompt.id);
    }
  });
}

/**
 * runComplete prints the candidates for the last of `words`, one a line, or
 * FILES. It never prints an error: its output lands in a shell prompt.
 */
export async function runComplete(ctx: CliContext, program: Command, words: readonly string[]): Promise<void> {
  const want = wanted(program, words.length === 0 ? [''] : words);
  if ('files' in want) return ctx.out.line(FILES);
  const current = words.at(-1) ?? '';
  const candidates = 'words' in want ? want.words : await lookUp(ctx, want).catch(() => []);
  for (const candidate of candidates) if (candidate.startsWith(current)) ctx.out.line(candidate);
}

/** completionScript is the script for one shell; each asks `xray __complete` on every Tab. */
export function completionScript(shell: Shell): string {
  const bash = `_xray() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" IFS=$'\\n'
  local -a found=($(xray __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
  if [[ "\${found[0]}" == "${FILES}" ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    compopt -o filenames 2>/dev/null
  else
    COMPREPLY=("\${found[@]}")
  fi
}
complete -F _xray xray
`;
  switch (shell) {
    case 'bash':
      return `# bash completion for xray: eval "$(xray completion bash)"\n${bash}`;
    case 'zsh':
      return `#compdef xray\n# zsh completion for xray: eval "$(xray completion zsh)"\nautoload -U bashcompinit && bashcompinit\n${bash}`;
    case 'fish':
      return `# fish completion for xray: xray completion fish | source
function __xray_complete
    set -l found (xray __complete -- (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)
    if test "$found[1]" = "${FILES}"
        __fish_complete_path (commandline -ct)
    else
        printf '%s\\n' $found
    end
end
complete -c xray -f -a '(__xray_complete)'
`;
  }
}

export function registerCompletionCommands(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .action((shell: Shell) => {
      ctx.out.stdout.write(completionScript(shell));
    });

  program
    .command('__complete', { hidden: true })
    .addArgument(arg('[words...]', 'nothing'))
    .action((words: string[]) => runComplete(ctx, program, words));
}

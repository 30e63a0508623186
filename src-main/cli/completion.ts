// Runs in: plain Node (CLI).
import type { Command } from 'commander';

export type Shell = 'bash' | 'zsh' | 'fish';

interface CommandSpec {
  readonly path: string;
  readonly subcommands: string[];
  readonly options: string[];
  /** dynamic says which names complete the first argument: VMs or bases. */
  readonly dynamic: 'vms' | 'bases' | null;
}

/** BASE_COMMANDS take a base name first; every other command with an argument takes a VM. */
const BASE_COMMANDS = new Set(['base remove']);
const NO_NAME_COMMANDS = new Set(['base import', 'base list', 'config set', 'config show', 'config path', 'completion', 'list']);

function specs(program: Command): CommandSpec[] {
  const result: CommandSpec[] = [];
  const walk = (cmd: Command, prefix: string) => {
    const visible = cmd.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden);
    const path = prefix;
    const hasArgs = cmd.registeredArguments.length > 0;
    let dynamic: CommandSpec['dynamic'] = null;
    if (hasArgs && !NO_NAME_COMMANDS.has(path)) dynamic = BASE_COMMANDS.has(path) ? 'bases' : 'vms';
    result.push({ path, subcommands: visible.map((c) => c.name()), options: cmd.options.map((o) => o.long ?? o.short ?? '').filter(Boolean), dynamic });
    for (const sub of visible) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(program, '');
  return result;
}

/** completionScript prints a completion script derived from the declared commands. */
export function completionScript(shell: Shell, program: Command): string {
  const all = specs(program);
  switch (shell) {
    case 'bash':
      return bash(all);
    case 'zsh':
      return `#compdef xray\nautoload -U bashcompinit && bashcompinit\n${bash(all)}`;
    case 'fish':
      return fish(all);
  }
}

function bash(all: CommandSpec[]): string {
  const known = all.filter((s) => s.path).map((s) => `"${s.path}"`).join('|');
  const cases = all
    .map((s) => {
      const names = s.dynamic ? `$(xray __complete ${s.dynamic} 2>/dev/null)` : '';
      return `    "${s.path}") words="${[...s.subcommands, ...s.options].join(' ')}"; names="${names}" ;;`;
    })
    .join('\n');
  return `# bash completion for xray: eval "$(xray completion bash)"
_xray_known() {
  case "$1" in ${known}) return 0 ;; esac
  return 1
}
_xray() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" i w words="" names=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    if _xray_known "\${path:+$path }$w"; then path="\${path:+$path }$w"; fi
  done
  case "$path" in
${cases}
  esac
  COMPREPLY=( $(compgen -W "$words $names" -- "$cur") )
}
complete -F _xray xray
`;
}

function fish(all: CommandSpec[]): string {
  const lines = ['# fish completion for xray: xray completion fish | source', 'complete -c xray -f'];
  for (const s of all) {
    const parts = s.path ? s.path.split(' ') : [];
    const cond = parts.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${parts[parts.length - 1]}`;
    for (const sub of s.subcommands) lines.push(`complete -c xray -n '${cond}' -a ${sub}`);
    if (s.dynamic) lines.push(`complete -c xray -n '${cond}' -a '(xray __complete ${s.dynamic})'`);
    for (const opt of s.options.filter((o) => o.startsWith('--'))) lines.push(`complete -c xray -n '${cond}' -l ${opt.slice(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

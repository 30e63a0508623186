// Runs in: plain Node (CLI). A list of items a person ticks at a terminal.
import type { Terminal } from './interact';

interface Key {
  readonly name?: string;
  readonly ctrl?: boolean;
  readonly sequence?: string;
}

/** CHECKLIST_HELP is the line under the title: the keys a checklist answers. */
const CHECKLIST_HELP = '↑/↓ move, space ticks, a ticks all or none, enter accepts, q gives up';

/**
 * checklist shows `items` with boxes, those in `ticked` ticked, and lets a
 * person change them with single keys: ↑/↓ (or k/j) move, Space ticks, `a`
 * ticks all or none, Enter accepts, q, Esc or Ctrl-C give up. Resolves with
 * the indexes ticked, or null when given up. A list taller than the
 * terminal scrolls in a window; lines are cut to its width so each item
 * stays one line. Needs a TTY (see isInteractive).
 */
export function checklist(term: Terminal, title: string, items: readonly string[], ticked: ReadonlySet<number>): Promise<Set<number> | null> {
  const { stdin, stdout } = term;
  const chosen = new Set(ticked);
  // A terminal of unknown size (0 or unset, as on a pseudo-terminal nobody sized) counts as 80×24.
  const height = Math.max(3, Math.min(items.length, ((stdout as { rows?: number }).rows || 24) - 4));
  const width = Math.max(20, (stdout.columns || 80) - 1);
  let cursor = 0;
  let top = 0;
  let drawn = false;

  const draw = (): void => {
    if (cursor < top) top = cursor;
    if (cursor >= top + height) top = cursor - height + 1;
    const lines: string[] = [];
    for (let i = top; i < Math.min(items.length, top + height); i++) {
      const line = `${i === cursor ? '>' : ' '} [${chosen.has(i) ? 'x' : ' '}] ${items[i] ?? ''}`;
      lines.push(line.length > width ? `${line.slice(0, width - 1)}…` : line);
    }
    const footer = `${chosen.size} of ${items.length} ticked${items.length > height ? `, ${top + 1}-${top + lines.length} shown` : ''}`;
    const up = drawn ? `\x1b[${lines.length + 1}A` : '';
    stdout.write(`${up}${[...lines, footer].map((line) => `\r\x1b[K${line}`).join('\n')}\n`);
    drawn = true;
  };

  return new Promise((resolve) => {
    const finish = (result: Set<number> | null): void => {
      stdin.off('keypress', onKey);
      stdin.setRawMode?.(false);
      stdin.pause();
      resolve(result);
    };
    const onKey = (text: string | undefined, key: Key | undefined): void => {
      const name = key?.name ?? text;
      if ((key?.ctrl && (name === 'c' || name === 'd')) || name === 'q' || name === 'escape') return finish(null);
      if (name === 'return' || name === 'enter') return finish(chosen);
      if (name === 'up' || name === 'k') cursor = Math.max(0, cursor - 1);
      else if (name === 'down' || name === 'j') cursor = Math.min(items.length - 1, cursor + 1);
      else if (name === 'space') {
        if (chosen.has(cursor)) chosen.delete(cursor);
        else chosen.add(cursor);
      } else if (name === 'a') {
        const all = chosen.size < items.length;
        chosen.clear();
        if (all) items.forEach((_, i) => chosen.add(i));
      } else return;
      draw();
    };
    stdout.write(`${title}\n${CHECKLIST_HELP}\n`);
    draw();
    process.getBuiltinModule('node:readline').emitKeypressEvents(stdin);
    stdin.setRawMode?.(true);
    stdin.on('keypress', onKey);
    stdin.resume();
  });
}

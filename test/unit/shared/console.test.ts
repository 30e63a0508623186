// A console reader in step with the API: a scrollback, then events, shown once
// each, in order, whatever order they arrive in.
import { describe, expect, it } from 'vitest';
import { CONSOLE_INPUT_MAX_CHARS, ConsoleFollower, consoleInputChunks, fromLineStart, type ConsoleOutput } from '../../../src-main/shared/console';

const out = (start: number, text: string, stream = 's1'): ConsoleOutput => ({ type: 'console.output', vm: 'web', stream, start, text });

/** follower records what a view is shown and how many scrollbacks it asked for. */
function follower() {
  const shown: string[] = [];
  let fetches = 0;
  const f = new ConsoleFollower({ reset: (text) => shown.push(`[reset]${text}`), write: (text) => shown.push(text) }, () => fetches++);
  return { f, shown, fetches: () => fetches };
}

describe('ConsoleFollower', () => {
  it('holds output that arrives before the scrollback, and shows only what the scrollback lacks', () => {
    const { f, shown } = follower();
    f.output(out(0, 'boot\n'));
    f.output(out(5, 'login: '));
    f.output(out(12, 'root\n'));
    f.scrollback({ stream: 's1', end: 12, text: 'boot\nlogin: ' });
    expect(shown).toEqual(['[reset]boot\nlogin: ', 'root\n']);
  });

  it('shows the part of an event the scrollback held only the start of', () => {
    const { f, shown } = follower();
    f.scrollback({ stream: 's1', end: 4, text: 'abcd' });
    f.output(out(2, 'cdef'));
    f.output(out(6, 'g'));
    expect(shown).toEqual(['[reset]abcd', 'ef', 'g']);
  });

  it('skips an event it already showed', () => {
    const { f, shown } = follower();
    f.scrollback({ stream: 's1', end: 0, text: '' });
    f.output(out(0, 'one'));
    f.output(out(0, 'one'));
    expect(shown).toEqual(['[reset]', 'one']);
  });

  it('asks for a new scrollback after a gap, and for a new stream (the VM ran again), and resets the view with it', () => {
    const { f, shown, fetches } = follower();
    f.scrollback({ stream: 's1', end: 3, text: 'abc' });
    f.output(out(10, 'lost before this'));
    expect(fetches()).toBe(1);
    f.output(out(26, '!'));
    f.scrollback({ stream: 's1', end: 26, text: 'abc…lost before this' });
    expect(shown).toEqual(['[reset]abc', '[reset]abc…lost before this', '!']);
    f.output(out(0, 'second run', 's2'));
    expect(fetches()).toBe(2);
    f.scrollback({ stream: 's2', end: 10, text: 'second run' });
    expect(shown.at(-1)).toBe('[reset]second run');
  });

  it('asks again at the next output after a fetch failed', () => {
    const { f, fetches } = follower();
    f.failed();
    f.output(out(0, 'x'));
    expect(fetches()).toBe(1);
  });

  it('treats output of a VM that was stopped when the scrollback was read as a new run', () => {
    const { f, fetches } = follower();
    f.scrollback({ stream: null, end: 9, text: 'last run\n' });
    f.output(out(0, 'BdsDxe'));
    expect(fetches()).toBe(1);
  });
});

describe('consoleInputChunks', () => {
  it('splits a long paste into pieces the API takes, keeping surrogate pairs whole', () => {
    const text = `${'a'.repeat(CONSOLE_INPUT_MAX_CHARS - 1)}😀${'b'.repeat(10)}`;
    const chunks = consoleInputChunks(text);
    expect(chunks.join('')).toBe(text);
    expect(chunks.every((c) => c.length <= CONSOLE_INPUT_MAX_CHARS)).toBe(true);
    expect(chunks[0]!.endsWith('a')).toBe(true);
    expect(consoleInputChunks('ls\r')).toEqual(['ls\r']);
  });
});

describe('fromLineStart', () => {
  it('keeps the end from the start of a line', () => {
    expect(fromLineStart('one\ntwo\nthree\n', 2)).toBe('two\nthree\n');
    expect(fromLineStart('one\ntwo\n', 4)).toBe('two\n');
    expect(fromLineStart('partial\nwhole\n', 0)).toBe('whole\n');
  });

  it('cuts inside a line that runs on for more than 1 KiB', () => {
    const long = 'x'.repeat(5000);
    expect(fromLineStart(long, 100)).toHaveLength(4900);
  });
});

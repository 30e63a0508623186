import { describe, expect, it } from 'vitest';
import { validateName } from '../../../src-main/core/names';
import { nameProblem } from '../../../src-main/shared/names';

describe('names of VMs, bases and snapshots', () => {
  it.each([
    ['web', null],
    ['debian-12.2_arm64', null],
    ['a'.repeat(63), null],
    ['', 'is empty'],
    ['a'.repeat(64), 'is longer than 63 characters'],
    ['a/b', 'contains a path separator'],
    ['..', 'starts with a dot'],
    ['.hidden', 'starts with a dot'],
    ['-rf', 'starts with a dash'],
    ['a b', 'contains white space'],
    ['naïve', 'has characters other than letters, digits, ".", "_" and "-"'],
    ['semi;colon', 'has characters other than letters, digits, ".", "_" and "-"'],
  ])('%j → %j', (name, problem) => {
    expect(nameProblem(name)).toBe(problem);
  });

  it('throws one sentence naming the kind and the rule', () => {
    expect(() => validateName('snapshot', '-bad')).toThrow(/^The snapshot name "-bad" starts with a dash; use up to 63 letters/);
  });
});

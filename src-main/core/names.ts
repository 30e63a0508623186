// Runs in: plain Node (core).
import { XrayError } from '../shared/errors';

/**
 * NAME_PATTERN is what VM, base and snapshot names must match: they become file
 * and directory names, so no path separators, no leading dot or dash, no spaces.
 */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const NAME_MAX_LENGTH = 63;

export type NameKind = 'VM' | 'base image' | 'snapshot' | 'plugin';

/** nameProblem returns why `name` is not a valid name, or null when it is. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (name.length > NAME_MAX_LENGTH) return `is longer than ${NAME_MAX_LENGTH} characters`;
  if (name.includes('/') || name.includes('\\')) return 'contains a path separator';
  if (name.startsWith('.')) return 'starts with a dot';
  if (name.startsWith('-')) return 'starts with a dash';
  if (/\s/.test(name)) return 'contains white space';
  if (!NAME_PATTERN.test(name)) return 'has characters other than letters, digits, ".", "_" and "-"';
  return null;
}

/** validateName throws a user-facing error when `name` is not a valid name. */
export function validateName(kind: NameKind, name: string): string {
  const problem = nameProblem(name);
  if (problem) {
    throw new XrayError(
      'invalid-argument',
      `The ${kind} name "${name}" ${problem}; use up to ${NAME_MAX_LENGTH} letters, digits, ".", "_" or "-", starting with a letter or digit.`,
    );
  }
  return name;
}

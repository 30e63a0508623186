// Runs in: anywhere (pure). What names of VMs, bases, snapshots and plugins may be.

/**
 * NAME_PATTERN is what VM, base and snapshot names must match: they become file
 * and directory names, so no path separators, no leading dot or dash, no spaces.
 */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const NAME_MAX_LENGTH = 63;

export type NameKind = 'VM' | 'base image' | 'snapshot' | 'plugin' | 'secret';

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

/** nameSentence is the one sentence for a name nameProblem refuses. */
export function nameSentence(kind: NameKind, name: string, problem: string): string {
  return `The ${kind} name "${name}" ${problem}; use up to ${NAME_MAX_LENGTH} letters, digits, ".", "_" or "-", starting with a letter or digit.`;
}

const IMAGE_EXTENSION = /\.(qcow2|qcow|img|raw)$/i;

/**
 * baseNameFromFile is the base name an image file suggests: its last path
 * component without an image extension, with anything a name may not hold
 * turned into "-" ("Debian 12.qcow2" → "Debian-12"); "base" if nothing is left.
 */
export function baseNameFromFile(path: string): string {
  const file = path.split(/[\\/]/).pop() ?? '';
  const stem = file.replace(IMAGE_EXTENSION, '');
  const cleaned = stem.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[.-]+/, '').slice(0, NAME_MAX_LENGTH);
  return cleaned || 'base';
}

/** programName is the program a command line runs: "/usr/bin/curl -s URL" → "curl"; null when there is none. */
export function programName(command: string): string | null {
  const first = command.trim().split(/\s+/)[0] ?? '';
  return first.split('/').pop() || null;
}

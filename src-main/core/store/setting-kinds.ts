// Runs in: plain Node (core).
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { XrayError } from '../../shared/errors';

/**
 * setting-kinds are the kinds of value config.toml holds (a wait in seconds, a
 * count, true or false, a path), each as a Setting: how to check the value
 * found in the file and how to read what the user typed.
 */

/** SettingKey is what `xray config` shows of a setting. */
export interface SettingKey {
  readonly key: string;
  readonly description: string;
  readonly type: string;
}

const MAX_TIMEOUT_SECONDS = 86_400;

/**
 * Setting describes one settable key: how to check a value found in the file
 * (`check` returns what was expected, or null when fine) and how to turn a
 * string typed by the user into the value to store (undefined deletes the key).
 */
export interface Setting extends SettingKey {
  readonly check: (value: unknown) => string | null;
  readonly fromText: (text: string) => unknown;
}

/** seconds is a setting that is a wait, from 1 s to a day. */
export function seconds(key: string, description: string): Setting {
  return whole(key, 'seconds', description, 1, MAX_TIMEOUT_SECONDS);
}

/** whole is a setting that is a whole number of `unit` from min to max. */
export function whole(key: string, unit: 'seconds' | 'count', description: string, min: number, max: number): Setting {
  const expected = `a whole number${unit === 'seconds' ? ' of seconds' : ''} from ${min} to ${max}`;
  return {
    key,
    type: unit,
    description,
    check: (v) => (Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? null : expected),
    fromText: (text) => {
      const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
      if (!Number.isInteger(n) || n < min || n > max) throw badValue(key, text, `it must be ${expected}`);
      return n;
    },
  };
}

/** boolean is a setting that is true or false. */
export function boolean(key: string, description: string): Setting {
  return {
    key,
    type: 'true | false',
    description,
    check: (v) => (typeof v === 'boolean' ? null : 'true or false'),
    fromText: (text) => {
      const flag = parseBoolean(text);
      if (flag === null) throw badValue(key, text, 'it must be true or false');
      return flag;
    },
  };
}

/** path is a setting that is an absolute file path (~ is the home directory); empty removes it. */
export function path(key: string, description: string): Setting {
  return {
    key,
    type: 'path',
    description,
    check: (v) => (typeof v === 'string' && v !== '' ? null : 'a file path'),
    fromText: (text) => {
      const trimmed = text.trim();
      if (trimmed === '') return undefined;
      const expanded = trimmed === '~' || trimmed.startsWith('~/') ? join(homedir(), trimmed.slice(1)) : trimmed;
      if (!isAbsolute(expanded)) throw badValue(key, text, 'it must be an absolute path such as /home/me/.ssh/id_ed25519');
      return expanded;
    },
  };
}

/** isHttpUrl tells whether text is an http or https URL. */
export function isHttpUrl(text: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

/** parseBoolean reads true or false in any case; null for anything else. */
export function parseBoolean(text: string): boolean | null {
  const lower = text.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  return null;
}

/** badValue is the one sentence for a value a setting refuses. */
export function badValue(key: string, text: string, why: string): XrayError {
  return new XrayError('invalid-argument', `"${text}" is not a valid value for ${key}: ${why}.`);
}

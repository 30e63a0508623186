// Runs in: plain Node (core).
import type { TomlTable } from './toml-file';

/**
 * toml-simple reads the plain TOML that Xray itself writes (vm.toml, a base's
 * .toml, config.toml) many times faster than the full parser: `xray list`
 * reads one file per VM, and the full parser spends most of a 200-VM listing.
 * It understands only a strict subset: `key = value` lines and `[table]`
 * headers, with bare or quoted keys, strings without escapes, whole numbers,
 * booleans, one-line lists of one such kind, and one-line tables of them.
 * Anything else (a comment, an escape, a float, a date, a `[[list]]`, a key
 * given twice, a line ending in CR) makes it answer null,
 * and the caller parses the text in full: what it does answer is exactly
 * what the full parser would.
 */

/** PLAIN_STRING is the inside of a basic string with no escape and no control character. */
// eslint-disable-next-line no-control-regex
const PLAIN_STRING = /^[^"\\\x00-\x1f\x7f]*$/;
/** WHOLE_NUMBER is a decimal integer of at most 15 digits (always exact as a JS number), no sign but minus. */
const WHOLE_NUMBER = /^-?(?:0|[1-9][0-9]{0,14})$/;

/** Cursor walks one line; `at` is the index of the next character. */
interface Cursor {
  readonly line: string;
  at: number;
}

type Scalar = string | number | boolean;

/** headerTables are the tables made by headers, the only ones a later header may open a table inside. */
const headerTables = new WeakSet<object>();

/** parseSimpleToml returns the table the full parser would, or null when text is outside the subset. */
export function parseSimpleToml(text: string): TomlTable | null {
  if (text.includes('\r')) return null;
  const root: TomlTable = {};
  let table = root;
  for (const raw of text.split('\n')) {
    const cursor: Cursor = { line: raw, at: 0 };
    skipSpace(cursor);
    if (cursor.at === raw.length) continue;
    if (raw[cursor.at] === '[') {
      const opened = openTable(root, cursor);
      if (opened === null) return null;
      table = opened;
      continue;
    }
    const key = readKey(cursor);
    if (key === null || Object.hasOwn(table, key)) return null;
    skipSpace(cursor);
    if (raw[cursor.at] !== '=') return null;
    cursor.at++;
    skipSpace(cursor);
    const value = readValue(cursor);
    if (value === undefined) return null;
    skipSpace(cursor);
    if (cursor.at !== raw.length) return null;
    table[key] = value;
  }
  return root;
}

/**
 * openTable reads a `[a.b]` header and makes its table. A header naming a
 * table that exists already, or passing through a value that is not a table
 * opened by a header, is left to the full parser (which knows when TOML
 * allows it).
 */
function openTable(root: TomlTable, cursor: Cursor): TomlTable | null {
  cursor.at++;
  const path: string[] = [];
  for (;;) {
    skipSpace(cursor);
    const key = readKey(cursor);
    if (key === null) return null;
    path.push(key);
    skipSpace(cursor);
    const next = cursor.line[cursor.at];
    cursor.at++;
    if (next === ']') break;
    if (next !== '.') return null;
  }
  skipSpace(cursor);
  if (cursor.at !== cursor.line.length) return null;
  let table = root;
  for (const [index, key] of path.entries()) {
    const last = index === path.length - 1;
    if (!Object.hasOwn(table, key)) {
      const made: TomlTable = {};
      headerTables.add(made);
      table[key] = made;
      table = made;
    } else if (last) {
      return null;
    } else {
      const existing = table[key];
      if (!headerTables.has(existing as object)) return null;
      table = existing as TomlTable;
    }
  }
  return table;
}

/** readValue reads a scalar, a one-line list or a one-line table; undefined when it is none of them. */
function readValue(cursor: Cursor): Scalar | Scalar[] | TomlTable | undefined {
  const first = cursor.line[cursor.at];
  if (first === '[') return readList(cursor);
  if (first === '{') return readInlineTable(cursor);
  return readScalar(cursor);
}

/** readList reads `[ a, b ]` of one kind of scalar (TOML 0.5 lists are of one type), a trailing comma allowed. */
function readList(cursor: Cursor): Scalar[] | undefined {
  cursor.at++;
  const items: Scalar[] = [];
  for (;;) {
    skipSpace(cursor);
    if (cursor.line[cursor.at] === ']') break;
    const item = readScalar(cursor);
    if (item === undefined || (items.length > 0 && typeof item !== typeof items[0])) return undefined;
    items.push(item);
    skipSpace(cursor);
    if (cursor.line[cursor.at] === ',') cursor.at++;
    else if (cursor.line[cursor.at] !== ']') return undefined;
  }
  cursor.at++;
  return items;
}

/** readInlineTable reads `{ a = 1, b = "x" }` of scalars (no trailing comma, as TOML says). */
function readInlineTable(cursor: Cursor): TomlTable | undefined {
  cursor.at++;
  const table: TomlTable = {};
  skipSpace(cursor);
  if (cursor.line[cursor.at] === '}') {
    cursor.at++;
    return table;
  }
  for (;;) {
    skipSpace(cursor);
    const key = readKey(cursor);
    if (key === null || Object.hasOwn(table, key)) return undefined;
    skipSpace(cursor);
    if (cursor.line[cursor.at] !== '=') return undefined;
    cursor.at++;
    skipSpace(cursor);
    const value = readScalar(cursor);
    if (value === undefined) return undefined;
    table[key] = value;
    skipSpace(cursor);
    const next = cursor.line[cursor.at];
    cursor.at++;
    if (next === '}') return table;
    if (next !== ',') return undefined;
  }
}

/** readScalar reads a plain string, a whole number or a boolean. */
function readScalar(cursor: Cursor): Scalar | undefined {
  const { line } = cursor;
  if (line[cursor.at] === '"') return readPlainString(cursor) ?? undefined;
  let end = cursor.at;
  while (end < line.length && isWordChar(line.charCodeAt(end))) end++;
  const word = line.slice(cursor.at, end);
  cursor.at = end;
  if (word === 'true') return true;
  if (word === 'false') return false;
  if (!WHOLE_NUMBER.test(word)) return undefined;
  return word === '-0' ? 0 : Number(word);
}

/** readKey reads a bare key or a quoted one without escapes; a `__proto__` key is left to the full parser. */
function readKey(cursor: Cursor): string | null {
  const { line } = cursor;
  let key: string | null;
  if (line[cursor.at] === '"') {
    key = readPlainString(cursor);
  } else {
    let end = cursor.at;
    while (end < line.length && isKeyChar(line.charCodeAt(end))) end++;
    key = end === cursor.at ? null : line.slice(cursor.at, end);
    cursor.at = end;
  }
  return key === '__proto__' ? null : key;
}

/** readPlainString reads `"…"` holding no escape and no control character. */
function readPlainString(cursor: Cursor): string | null {
  const close = cursor.line.indexOf('"', cursor.at + 1);
  if (close < 0) return null;
  const inside = cursor.line.slice(cursor.at + 1, close);
  if (!PLAIN_STRING.test(inside)) return null;
  cursor.at = close + 1;
  return inside;
}

/** isKeyChar says a character may be in a bare key: a letter, a digit, `_` or `-`. */
function isKeyChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d;
}

/** isWordChar says a character may be in an unquoted value (a number, a boolean, or a float or date to refuse whole). */
function isWordChar(c: number): boolean {
  return isKeyChar(c) || c === 0x2b || c === 0x2e || c === 0x3a;
}

/** skipSpace moves past TOML whitespace (spaces and tabs). */
function skipSpace(cursor: Cursor): void {
  while (cursor.line[cursor.at] === ' ' || cursor.line[cursor.at] === '\t') cursor.at++;
}

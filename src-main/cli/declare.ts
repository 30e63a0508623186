// Runs in: plain Node (CLI). How commands declare their arguments and
// options: what a shell should complete each to, and how numbers are read.
import { Argument, Option } from 'commander';
import { XrayError } from '../shared/errors';

/**
 * Completes says what a shell offers for an argument or an option's value:
 * names Xray knows (`vm`, `base`, `snapshot` of the VM named first, `prompt`
 * ids), `file` paths, fixed words, or `nothing` (free text).
 */
export type Completes = 'vm' | 'base' | 'snapshot' | 'prompt' | 'file' | 'nothing' | readonly string[];

const declared = new WeakMap<Argument | Option, Completes>();

/** arg declares a positional argument (`<vm>`, `[command...]`) and what it completes to. */
export function arg(spec: string, completes: Completes, description?: string): Argument {
  const argument = new Argument(spec, description);
  declared.set(argument, completes);
  return argument;
}

/** valueOption declares an option that takes a value (`--base <base>`) and what that value completes to. */
export function valueOption(flags: string, description: string, completes: Completes): Option {
  const option = new Option(flags, description);
  declared.set(option, completes);
  return option;
}

/**
 * completesOf is what an argument or option value completes to: as declared,
 * else its choices; an option's value is free text unless it says otherwise,
 * and an argument nobody declared is undefined.
 */
export function completesOf(item: Argument | Option): Completes | undefined {
  const found = declared.get(item) ?? item.argChoices;
  if (found !== undefined) return found;
  return item instanceof Option ? 'nothing' : undefined;
}

/** positiveInt reads a whole number above zero, naming `label` when the text is not one. */
export function positiveInt(label: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
      throw new XrayError('invalid-argument', `${label} must be a positive whole number, not "${value}".`);
    }
    return n;
  };
}

/** boundedInt reads a whole number within limits (the shared layer's), naming `label` and the range when it is not. */
export function boundedInt(label: string, limits: { readonly min: number; readonly max: number }): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < limits.min || n > limits.max) {
      throw new XrayError('invalid-argument', `${label} must be a whole number from ${limits.min} to ${limits.max}, not "${value}".`);
    }
    return n;
  };
}

/** collect gathers a repeatable option's values in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

// Runs in: renderer. What the slices share: the one way a per-VM Loadable is
// fetched and kept, the log bound, and an error's sentence.
import type { Loadable, SliceContext, XrayState } from './types';

/** LOG_LIMIT bounds the firewall log and hook output kept per VM. */
export const LOG_LIMIT = 200;

/** PerVmLoadable names the store's per-VM records of fetched data. */
type PerVmLoadable = {
  [K in keyof XrayState]: XrayState[K] extends Readonly<Record<string, Loadable<unknown>>> ? K : never;
}[keyof XrayState];

type Value<K extends PerVmLoadable> = XrayState[K][string] extends Loadable<infer T> ? T : never;

/** message is the sentence an error carries, for showing in place. */
export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** byName orders VM names the way the list shows them. */
export function byName(a: string, b: string): number {
  return a.localeCompare(b);
}

/** putEntry replaces one VM's entry in a per-VM record, leaving the other VMs' entries as they were. */
export function putEntry<K extends PerVmLoadable>({ set, get }: SliceContext, key: K, vm: string, value: Loadable<Value<K>>): void {
  set({ [key]: { ...get()[key], [vm]: value } } as Partial<XrayState>);
}

/**
 * loadEntry fetches one VM's entry: loading the first time only (a refresh
 * keeps what shows until the answer comes), then the value or the error in its place.
 */
export async function loadEntry<K extends PerVmLoadable>(ctx: SliceContext, key: K, vm: string, fetch: () => Promise<Value<K>>): Promise<void> {
  if (!ctx.get()[key][vm]) putEntry(ctx, key, vm, { status: 'loading' });
  try {
    putEntry(ctx, key, vm, { status: 'ready', value: await fetch() });
  } catch (err) {
    putEntry(ctx, key, vm, { status: 'error', message: message(err) });
  }
}

/** loadAll fetches data the whole window shares into `key`: the value, or the error in its place. */
export async function loadAll<K extends 'bases' | 'defaults' | 'plugins' | 'catalog'>({ set }: SliceContext, key: K, fetch: () => Promise<unknown>): Promise<void> {
  try {
    set({ [key]: { status: 'ready', value: await fetch() } } as Partial<XrayState>);
  } catch (err) {
    set({ [key]: { status: 'error', message: message(err) } } as Partial<XrayState>);
  }
}

// Runs in: renderer. How any view shows data fetched on demand.
import type { ReactNode } from 'react';
import type { Loadable } from '../store/types';

/** Loaded renders a Loadable: a hint while loading, the error text in place, or the content. */
export function Loaded<T>({ value, children }: { value: Loadable<T> | undefined | null; children: (v: T) => ReactNode }) {
  if (!value || value.status === 'loading') return <p className="hint">Loading…</p>;
  if (value.status === 'error') return <p className="error">{value.message}</p>;
  return <>{children(value.value)}</>;
}

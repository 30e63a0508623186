// Runs in: renderer. Hands the store and client to every view.
import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { XrayClient } from '../client/types';
import type { XrayActions, XrayState, XrayStore } from './store';

const StoreContext = createContext<{ store: XrayStore; client: XrayClient } | null>(null);

export function XrayProvider({ store, client, children }: { store: XrayStore; client: XrayClient; children: ReactNode }) {
  return <StoreContext.Provider value={{ store, client }}>{children}</StoreContext.Provider>;
}

function useContextValue() {
  const value = useContext(StoreContext);
  if (!value) throw new Error('XrayProvider is missing above this view.');
  return value;
}

/** useXray selects from the store; a view re-renders only when what it selected changes. */
export function useXray<T>(selector: (state: XrayState & XrayActions) => T): T {
  return useStore(useContextValue().store, selector);
}

/** useActions returns the store's actions (stable: they never change). */
export function useActions(): XrayActions {
  return useContextValue().store.getState();
}

export function useClient(): XrayClient {
  return useContextValue().client;
}

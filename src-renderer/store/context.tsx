// Runs in: renderer. Hands the store to every view: views select state and
// call actions; only the store talks to the client.
import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { XrayStore } from './store';
import type { XrayActions, XrayState } from './types';

const StoreContext = createContext<XrayStore | null>(null);

export function XrayProvider({ store, children }: { store: XrayStore; children: ReactNode }) {
  return <StoreContext.Provider value={store}>{children}</StoreContext.Provider>;
}

function useXrayStore(): XrayStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('XrayProvider is missing above this view.');
  return store;
}

/** useXray selects from the store; a view re-renders only when what it selected changes. */
export function useXray<T>(selector: (state: XrayState) => T): T {
  return useStore(useXrayStore(), selector);
}

/** useActions returns the store's actions (stable: they never change). */
export function useActions(): XrayActions {
  return useXrayStore().getState();
}

// Runs in: renderer. The navigation slice: which view shows, and fetching
// what a view needs as it opens.
import type { NavigationSlice, SliceContext } from './types';

/** navigationSlice builds the navigation slice: showing a VM or the bases fetches what they show. */
export function navigationSlice({ set, get }: SliceContext): NavigationSlice {
  return {
    view: { kind: 'vms' },
    show(view) {
      set({ view });
      if (view.kind === 'vm') void get().loadDetail(view.name);
      if (view.kind === 'bases') void get().refreshBases();
    },
    async load() {
      await Promise.all([get().refreshVms(), get().refreshBases(), get().refreshPrompts()]);
    },
  };
}

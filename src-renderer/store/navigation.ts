// Runs in: renderer. The navigation slice: which view shows, fetching what a
// view needs as it opens, and the New VM dialog (opened by a person, or when
// an image they asked for is in).
import type { NavigationSlice, SliceContext } from './types';

/** navigationSlice builds the navigation slice: showing a VM or the bases fetches what they show. */
export function navigationSlice({ set, get }: SliceContext): NavigationSlice {
  return {
    view: { kind: 'vms' },
    newVm: null,
    show(view) {
      set({ view });
      if (view.kind === 'vm') void get().loadDetail(view.name);
      if (view.kind === 'bases') void get().refreshBases();
    },
    openNewVm(base = null) {
      set({ newVm: { base } });
    },
    closeNewVm() {
      set({ newVm: null });
    },
    async load() {
      await Promise.all([get().refreshVms(), get().refreshBases(), get().refreshPrompts()]);
    },
  };
}

// Types for build.mjs, the one place that hashes the recipe and builds the guest.

export interface TestGuest {
  /** image is the cached base image; boot it through an overlay, never directly. */
  readonly image: string;
  readonly recipeHash: string;
}

export interface EnsureTestGuestOptions {
  readonly log?: (line: string) => void;
}

export const RECIPE_FILES: readonly string[];
export function recipeHash(): Promise<string>;
export function guestCacheRoot(env?: NodeJS.ProcessEnv): string;
export function ensureTestGuest(opts?: EnsureTestGuestOptions): Promise<TestGuest>;

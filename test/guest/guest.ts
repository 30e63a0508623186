// Runs in: plain Node (test tooling).
//
// The test guest is built by build-guest.sh and cached by build.mjs, which
// .ci/run also calls directly; this module gives the tests its typed API.
export { ensureTestGuest, guestCacheRoot, recipeHash, RECIPE_FILES } from './build.mjs';
export type { EnsureTestGuestOptions, TestGuest } from './build.mjs';

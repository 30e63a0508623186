// Runs in: plain Node (core).
export { EXAMPLE_HOOK_NAME, initHookScripts } from './example';
export type { BuiltInHook, BuiltInHookContext, HookListing, HookSource, HookTarget } from './hook-types';
export { DEFAULT_HOOK_TIMEOUT_MS, HookRunner, type HookRunnerOptions } from './runner';

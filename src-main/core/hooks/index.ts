// Runs in: plain Node (core).
export { EXAMPLE_HOOK_NAME, initHookScripts } from './example';
export { DEFAULT_HOOK_TIMEOUT_MS, HookRunner, type BuiltInHook, type BuiltInHookContext, type HookListing, type HookRunnerOptions, type HookSource, type HookTarget } from './runner';

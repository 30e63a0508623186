// Runs in: plain Node (core).
/**
 * Node builtins that take a CLI command milliseconds to load, loaded on first
 * use (process.getBuiltinModule) rather than imported: creating the service
 * initialises every core module, `xray list` included, and most commands never
 * hash, spawn a process or resolve a name. Types still come from `import type`.
 */

/** nodeCrypto is node:crypto. */
export const nodeCrypto = () => process.getBuiltinModule('node:crypto');
/** childProcess is node:child_process. */
export const childProcess = () => process.getBuiltinModule('node:child_process');
/** nodeDns is node:dns. */
export const nodeDns = () => process.getBuiltinModule('node:dns');

// Runs in: plain Node (core).
/**
 * Node builtins that take a CLI command milliseconds to load, loaded on first
 * use (process.getBuiltinModule) rather than imported: creating the service
 * initialises every core module, `xray list` included, and most commands never
 * hash, spawn a process, resolve a name or open a socket. Types still come from `import type`.
 */

/**
 * tempTag is a short tag for a temporary file's name, unique among this
 * host's live processes: the pid, a counter, and random digits. It needs no
 * node:crypto (a few milliseconds a command): every caller creates its file
 * exclusively or beside a name only it uses, so a tag need not be secret.
 */
export function tempTag(): string {
  tags += 1;
  return `${process.pid.toString(36)}-${tags.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
let tags = 0;

/** nodeCrypto is node:crypto. */
export const nodeCrypto = () => process.getBuiltinModule('node:crypto');
/** childProcess is node:child_process. */
export const childProcess = () => process.getBuiltinModule('node:child_process');
/** nodeDns is node:dns. */
export const nodeDns = () => process.getBuiltinModule('node:dns');
/** nodeNet is node:net (with the stream machinery it brings), kept once loaded: the firewall asks for it per connection. */
export const nodeNet = (): typeof import('node:net') => (net ??= process.getBuiltinModule('node:net'));
let net: typeof import('node:net') | undefined;

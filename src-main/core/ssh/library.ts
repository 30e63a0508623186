// Runs in: plain Node (core).
import { createRequire } from 'node:module';
import type * as Ssh2 from 'ssh2';

let loaded: typeof Ssh2 | null = null;

/**
 * ssh2 loads the ssh2 package on first use. It is large and CommonJS, and most
 * commands (`xray list`, say) never open SSH, so loading it up front would
 * slow every start. require() also sidesteps Node's ESM loader, which cannot
 * name ssh2's exports.
 */
export function ssh2(): typeof Ssh2 {
  loaded ??= createRequire(import.meta.url)('ssh2') as typeof Ssh2;
  return loaded;
}

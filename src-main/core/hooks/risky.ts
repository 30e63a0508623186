// Runs in: plain Node (core).
import { open } from 'node:fs/promises';
import type { HookSource, HookType } from '../../shared/enums';
import type { AutoMoment } from '../vms/auto-snapshots';

/**
 * risky tells which hooks a person marked risky, so Xray snapshots the VM
 * before they run (when its automatic snapshots are on). A plugin marks a
 * hook or command with `risky: true` (plugins/host.ts); a hook script, which
 * has no manifest, with a comment line of its own near the top:
 *
 *   # xray: risky = true
 */

/** RISKY_SCRIPT_MARK is the comment line that marks a hook script risky. */
const RISKY_SCRIPT_MARK = /^#\s*xray:\s*risky\s*=\s*true\s*$/m;
/** HEAD_BYTES is how much of a script is read for the mark: its opening comments. */
const HEAD_BYTES = 4096;

/** scriptIsRisky reads the top of a hook script for the risky mark; a file that cannot be read is not marked. */
export async function scriptIsRisky(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'r');
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(head, 0, HEAD_BYTES, 0);
    return RISKY_SCRIPT_MARK.test(head.subarray(0, bytesRead).toString('utf8'));
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

/** beforeHook is the moment before a risky hook runs: the snapshot is named after the script or plugin. */
export function beforeHook(hook: { readonly type: HookType; readonly script: string; readonly source: HookSource }): AutoMoment {
  const what = hook.source === 'plugin' ? `plugin "${hook.script}"'s ${hook.type} hook` : `the ${hook.type} hook "${hook.script}" (${hook.source})`;
  return { kind: 'before', step: hook.script, what };
}

/** beforeCommand is the moment before a risky plugin command first reaches a VM. */
export function beforeCommand(plugin: string, command: string): AutoMoment {
  return { kind: 'before', step: `${plugin}-${command}`, what: `plugin "${plugin}"'s command "${command}"` };
}

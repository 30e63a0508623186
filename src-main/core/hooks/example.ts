// Runs in: plain Node (core).
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XrayError } from '../../shared/errors';
import type { HomePaths } from '../paths';
import { HOOK_TYPES, type HookType } from '../../shared/enums';
import type { VmStore } from '../store/vm-config';

/** EXAMPLE_HOOK_NAME is the file `xray hooks init` writes into a boot hook directory. */
export const EXAMPLE_HOOK_NAME = '50-example.sh';

/**
 * EXAMPLE_HOOK_SCRIPT documents, by example, what a host hook script receives.
 * It is harmless to leave in place: it prints one line and the guest's kernel.
 */
export const EXAMPLE_HOOK_SCRIPT = `#!/bin/sh
# Xray hook script (example, written by "xray hooks init").
#
# Hook scripts run on the HOST, not in the guest. Xray runs every executable
# file in these directories, alphabetically, after its built-in hooks:
#   XRAY_HOME/scripts/{create,initial-boot,boot}/        every VM
#   XRAY_HOME/vms/NAME/scripts/{create,initial-boot,boot}/ one VM
# create: once, when the VM is created.
# initial-boot: at each start until they have all succeeded once
#   ("xray hooks reset-initial-boot NAME" makes them run again).
# boot: at every start ("xray start --no-hooks NAME" skips them).
#
# Environment: XRAY_VM_NAME, XRAY_HOOK_TYPE, XRAY_HOME, XRAY_SSH_HOST,
# XRAY_SSH_PORT, XRAY_SSH_USER, XRAY_SSH_KEY, XRAY_SSH_KNOWN_HOSTS, PATH, HOME.
# Output goes to the VM's hooks.log and to "xray events". A non-zero exit is
# reported with this script's name; it does not stop the VM. Delete this file
# or remove its execute bit (chmod -x) to stop it running.
# A line "# xray: risky = true" near the top marks a script risky: with
# automatic snapshots on ("xray set NAME --auto-snapshots on"), Xray
# snapshots the VM just before it runs.
set -eu

echo "VM $XRAY_VM_NAME is up ($XRAY_HOOK_TYPE hook); SSH on $XRAY_SSH_HOST:$XRAY_SSH_PORT"

# Run a command in the guest with the VM's own key and pinned host key.
ssh -i "$XRAY_SSH_KEY" -p "$XRAY_SSH_PORT" \\
  -o UserKnownHostsFile="$XRAY_SSH_KNOWN_HOSTS" -o StrictHostKeyChecking=yes \\
  -o IdentitiesOnly=yes -o BatchMode=yes \\
  "$XRAY_SSH_USER@$XRAY_SSH_HOST" uname -a
`;

/**
 * initHookScripts creates the hook directories (global, or the VM's) and the
 * example boot script, commented and executable; an existing file is kept.
 * It returns the example's path and whether it was written.
 */
export async function initHookScripts(paths: HomePaths, store: VmStore, vm?: string): Promise<{ path: string; created: boolean }> {
  if (vm !== undefined && !(await store.exists(vm))) {
    throw new XrayError('not-found', `VM "${vm}" does not exist; run "xray list" to see your VMs.`);
  }
  const dirFor = (type: HookType): string => (vm === undefined ? paths.globalScripts(type) : paths.vm(vm).scripts(type));
  for (const type of HOOK_TYPES) await mkdir(dirFor(type), { recursive: true, mode: 0o700 });
  const path = join(dirFor('boot'), EXAMPLE_HOOK_NAME);
  try {
    await writeFile(path, EXAMPLE_HOOK_SCRIPT, { mode: 0o700, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { path, created: false };
    throw err;
  }
  await chmod(path, 0o700);
  return { path, created: true };
}

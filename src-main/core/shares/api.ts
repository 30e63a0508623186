// Runs in: plain Node (core).
import { realpath } from 'node:fs/promises';
import type { XrayEvent } from '../../shared/contract';
import type { Share } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { SHARE_LIMITS, guestPathProblem } from '../../shared/shares';
import type { Handler } from '../engine';
import { validateName } from '../names';
import type { VmStore } from '../store/vm-config';
import { checkHostFolder, type HostFolderRules } from './host-folder';

export type ShareMethod = 'share.list' | 'share.add' | 'share.remove';

export interface ShareApiDeps {
  readonly vms: Pick<VmStore, 'read' | 'update'>;
  readonly folders: HostFolderRules;
  readonly emit: (event: XrayEvent) => void;
  /** running tells whether the VM has a QEMU now (its shares change at its next start). */
  readonly running: (vm: string) => Promise<boolean>;
}

/** requireGuestPath checks where a share goes in the guest, in one sentence. */
function requireGuestPath(path: string): string {
  const problem = guestPathProblem(path);
  if (problem) throw new XrayError('invalid-argument', `The guest path "${path}" ${problem}; choose another with the GUEST_PATH argument.`);
  return path;
}

/**
 * shareHandlers serve a VM's shared folders from vm.toml, with or without a
 * supervisor. A change is checked in full (the folder, the guest path, the
 * limits) before anything is written, and is seen from the VM's next start.
 */
export function shareHandlers(deps: ShareApiDeps): { [M in ShareMethod]: Handler<M> } {
  const change = async (vm: string, share: Share): Promise<{ share: Share; vmRunning: boolean }> => {
    deps.emit({ type: 'vm.changed', vm });
    return { share, vmRunning: await deps.running(vm) };
  };
  return {
    'share.list': async ({ vm }) => [...((await deps.vms.read(validateName('VM', vm))).shares ?? [])],
    'share.add': async ({ vm, hostPath, guestPath, readOnly }) => {
      validateName('VM', vm);
      const host = await checkHostFolder(hostPath, deps.folders);
      const share: Share = { hostPath: host, guestPath: requireGuestPath(guestPath ?? host), readOnly: readOnly ?? false };
      await deps.vms.update(vm, (cfg) => {
        const shares = cfg.shares ?? [];
        const taken = shares.find((s) => s.guestPath === share.guestPath);
        if (taken) {
          throw new XrayError('already-exists', `VM "${vm}" already shares ${taken.hostPath} at ${share.guestPath}; remove it first or choose another guest path.`);
        }
        if (shares.length >= SHARE_LIMITS.perVm) {
          throw new XrayError('resource', `VM "${vm}" already has ${SHARE_LIMITS.perVm} shares, the most it can have; remove one first.`);
        }
        cfg.shares = [...shares, share];
      });
      return change(vm, share);
    },
    'share.remove': async ({ vm, path }) => {
      validateName('VM', vm);
      const real = await realpath(path).catch(() => path);
      let removed: Share | undefined;
      await deps.vms.update(vm, (cfg) => {
        const shares = cfg.shares ?? [];
        const byGuest = shares.filter((s) => s.guestPath === path);
        const matches = byGuest.length > 0 ? byGuest : shares.filter((s) => s.hostPath === path || s.hostPath === real);
        if (matches.length === 0) throw new XrayError('not-found', `VM "${vm}" has no share at or from ${path}; see "xray share list ${vm}".`);
        if (matches.length > 1) {
          throw new XrayError('invalid-argument', `VM "${vm}" shares ${path} at ${matches.map((s) => s.guestPath).join(' and ')}; name the guest path to remove one.`);
        }
        removed = matches[0];
        cfg.shares = shares.filter((s) => s !== removed);
      });
      return change(vm, removed as Share);
    },
  };
}

// Runs in: plain Node (core).
// The hooks methods of the API: list a VM's hooks, run them, read their runs.
import type { XrayEvent } from '../../shared/contract';
import type { Handler } from '../engine';
import { validateName } from '../names';
import type { SshTarget } from '../ssh';
import type { VmStore } from '../store/vm-store';
import type { HookRunner } from './runner';

/** HookMethod names the API methods hookHandlers serve. */
export type HookMethod = 'hooks.list' | 'hooks.run' | 'hooks.runs' | 'hooks.resetInitialBoot';

/** HookApiDeps is what hookHandlers need from the service. */
export interface HookApiDeps {
  readonly vms: Pick<VmStore, 'read'>;
  readonly hooks: Pick<HookRunner, 'list' | 'run' | 'runs' | 'resetInitialBoot'>;
  readonly sshTarget: (vm: string) => Promise<SshTarget>;
  readonly emit: (event: XrayEvent) => void;
}

/**
 * hookHandlers list a VM's hooks, run one type of them now over SSH, read
 * the record of past runs, and make the initial-boot hooks run again.
 */
export function hookHandlers(deps: HookApiDeps): { [M in HookMethod]: Handler<M> } {
  return {
    'hooks.list': async ({ vm }) => {
      await deps.vms.read(validateName('VM', vm));
      return deps.hooks.list(vm);
    },
    'hooks.run': async ({ vm, type }) => deps.hooks.run(vm, type, await deps.sshTarget(vm)),
    'hooks.runs': async ({ vm, limit }) => {
      await deps.vms.read(validateName('VM', vm));
      return deps.hooks.runs(vm, limit ?? 50);
    },
    'hooks.resetInitialBoot': async ({ vm }) => {
      await deps.hooks.resetInitialBoot(validateName('VM', vm));
      deps.emit({ type: 'vm.changed', vm });
      return null;
    },
  };
}

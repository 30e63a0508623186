// Runs in: plain Node (core).
import type { BaseInfo, VmSummary } from '../../shared/models';
import type { VmConfig } from '../store/vm-config';

/** summary turns what is on disk about a VM into the VmSummary a list shows before the supervisor adds live state. */

/** summarize describes a VM from its vm.toml (null when it did not load, with `error` saying why) and its live pid. */
export function summarize(
  name: string,
  config: VmConfig | null,
  error: string | null,
  pid: number | null,
  arch: BaseInfo['arch'],
): VmSummary {
  return {
    name,
    state: pid ? 'ready' : 'stopped',
    base: config?.base ?? '',
    arch,
    memoryMb: config?.memoryMb ?? 0,
    cpus: config?.cpus ?? 0,
    sshPort: config?.sshPort ?? 0,
    sshUser: config?.sshUser ?? '',
    ports: config?.ports ?? [],
    pid,
    accelerator: null,
    firewallActive: false,
    openConnections: 0,
    pendingPrompts: 0,
    crash: null,
    diagnosis: null,
    configError: error,
  };
}

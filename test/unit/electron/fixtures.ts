// Test data for the Electron layer's pure modules.
import type { VmSummary } from '../../../src-main/shared/models';

export function summary(name: string, overrides: Partial<VmSummary> = {}): VmSummary {
  return {
    name,
    state: 'stopped',
    base: 'debian',
    arch: 'aarch64',
    memoryMb: 1024,
    cpus: 2,
    sshPort: 2222,
    sshUser: 'debian',
    ports: [],
    pid: null,
    accelerator: null,
    firewallActive: false,
    openConnections: 0,
    pendingPrompts: 0,
    crash: null,
    diagnosis: null,
    configError: null,
    ...overrides,
  };
}

// Runs in: plain Node (core).
// What a VM's summary shows of it while the supervisor runs it.
import type { VmSummary } from '../../shared/models';
import { isActive } from '../../shared/vm';
import type { VmMachine } from './machine';

/** RunningFirewall is what a running VM's firewall adds to its summary. */
export interface RunningFirewall {
  readonly openConnections: number;
  readonly pendingPrompts: number;
  /** firewallActive says a boot hook verified that the guest routes all TCP through the firewall. */
  readonly firewallActive: boolean;
}

/**
 * runningSummary overlays what runs on a VM's summary from its files: a
 * crash, or the machine's state, pid, accelerator and diagnosis and its
 * firewall's counts; a VM this supervisor does not run is not ready.
 */
export function runningSummary(summary: VmSummary, machine: VmMachine | undefined, firewall: () => RunningFirewall): VmSummary {
  if (machine?.state === 'crashed') return { ...summary, state: 'crashed', pid: null, crash: machine.crash };
  if (!machine || !isActive(machine.state)) return summary.state === 'ready' ? { ...summary, state: 'stopped', pid: null } : summary;
  return {
    ...summary,
    ...firewall(),
    state: machine.state,
    pid: machine.pid,
    accelerator: machine.accel,
    crash: null,
    diagnosis: machine.diagnosis,
  };
}

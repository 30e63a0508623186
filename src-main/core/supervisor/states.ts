// Runs in: plain Node (core).
import type { VmStateName } from '../../shared/models';

/**
 * VM_TRANSITIONS is every move a VM's state may make under one supervisor;
 * VmMachine's one transition() refuses any other. A VM comes up through
 * starting (QEMU spawned, QMP connecting) and booting (QEMU runs, the guest
 * has not let Xray log in yet) to ready. It goes down through stopping (a
 * stop was asked for) to stopped, or straight to stopped when the guest shuts
 * itself down; an exit nobody asked for is crashed, and a crashed VM may start
 * again. Starting may also end in stopped (QEMU never came up) or stopping (a
 * snapshot to resume from failed to load). Booting straight from stopped is
 * adoption: a QEMU an earlier supervisor started, picked up still running.
 */
const VM_TRANSITIONS: { readonly [S in VmStateName]: readonly VmStateName[] } = {
  stopped: ['starting', 'booting'],
  starting: ['booting', 'stopping', 'stopped', 'crashed'],
  booting: ['ready', 'stopping', 'stopped', 'crashed'],
  ready: ['stopping', 'stopped', 'crashed'],
  stopping: ['stopped'],
  crashed: ['starting'],
};

/** canMove tells whether a VM may go from one state to another (VM_TRANSITIONS). */
export function canMove(from: VmStateName, to: VmStateName): boolean {
  return VM_TRANSITIONS[from].includes(to);
}

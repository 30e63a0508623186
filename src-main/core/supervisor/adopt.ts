// Runs in: plain Node (core).
// Adoption: picking up the VMs whose QEMU outlived an earlier supervisor.
import type { XrayEvent } from '../../shared/contract';
import type { HomePaths } from '../paths';
import type { VmStore } from '../store/vm-store';
import { readLivePid, removeRuntimeFiles } from '../vms/runtime';
import type { Consoles } from './consoles';
import type { FirewallHost } from './firewalls';
import type { GuestLink } from './guest-link';
import type { VmMachine } from './machine';
import type { QemuProcesses } from './qemu-process';

/** AdoptionDeps is what adoptRunning needs from the supervisor. */
export interface AdoptionDeps {
  readonly paths: HomePaths;
  readonly vms: Pick<VmStore, 'list'>;
  readonly qemu: Pick<QemuProcesses, 'adopt'>;
  /** isQemuFor checks that a pid from a pid file is that VM's QEMU. */
  readonly isQemuFor: (pid: number, qmpSocket: string) => Promise<boolean>;
  readonly isRunning: (vm: string) => boolean;
  readonly firewalls: Pick<FirewallHost, 'startVm'>;
  readonly consoles: Pick<Consoles, 'attach'>;
  readonly guests: Pick<GuestLink, 'watch'>;
  /** machineFor is the VM's machine, made when it has none yet. */
  readonly machineFor: (vm: string) => VmMachine;
  readonly emit: (event: XrayEvent) => void;
}

/**
 * adoptRunning picks up VMs whose QEMU outlived an earlier supervisor, after
 * checking the pid really is that VM's QEMU, and clears stale runtime files.
 * It returns the names of the VMs it adopted.
 */
export async function adoptRunning(deps: AdoptionDeps): Promise<string[]> {
  const adopted: string[] = [];
  for (const entry of await deps.vms.list()) {
    if (deps.isRunning(entry.name)) continue;
    const vm = deps.paths.vm(entry.name);
    const pid = readLivePid(vm);
    if (pid === null || !(await deps.isQemuFor(pid, vm.qmpSocket))) {
      await removeRuntimeFiles(vm);
      continue;
    }
    try {
      const process = await deps.qemu.adopt(entry.name, vm, pid);
      await deps.firewalls.startVm(entry.name, { allowAll: false }).catch(async (err: unknown) => {
        await process.release();
        throw err;
      });
      await deps.consoles.attach(entry.name, null);
      const machine = deps.machineFor(entry.name);
      machine.adopt(process);
      deps.guests.watch(machine, { runHooks: false, consoleFrom: null });
      adopted.push(entry.name);
    } catch (err) {
      deps.emit({ type: 'log', level: 'warn', source: 'supervisor', message: `VM "${entry.name}" (pid ${pid}) is running but its QMP socket does not answer: ${(err as Error).message}` });
    }
  }
  return adopted;
}

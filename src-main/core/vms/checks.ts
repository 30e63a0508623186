// Runs in: plain Node (core).
import type { PortMapping } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import type { HostResources } from '../host';
import type { VmConfig } from '../store/vm-config';
import { VM_LIMITS, formatPortMapping, isPort, portMappingProblem } from '../../shared/vm';

/**
 * checks refuses what a VM may not have, before anything is written: more
 * memory or CPUs than this host has, a host port twice or another VM's, and
 * it picks each new VM's SSH port.
 */

/** FIRST_SSH_PORT is where the search for a new VM's SSH port starts. */
export const FIRST_SSH_PORT = 2222;

/** VmConfigWithName is a listed VM whose vm.toml loaded. */
export interface VmConfigWithName {
  readonly name: string;
  readonly config: VmConfig;
}

/** isConfig keeps the listed VMs whose vm.toml loaded. */
export function isConfig<T extends { name: string; config: VmConfig | null }>(entry: T): entry is T & VmConfigWithName {
  return entry.config !== null;
}

/** checkResources refuses what the host cannot give, in words for any surface (the CLI's flags or the app's fields). */
export function checkResources(host: HostResources, memoryMb: number, cpus: number): void {
  if (memoryMb < VM_LIMITS.memoryMb.min) {
    throw new XrayError('invalid-argument', `${memoryMb} MB of memory is too little for a Linux guest; give it at least ${VM_LIMITS.memoryMb.min} MB.`);
  }
  if (memoryMb > host.totalMemoryMb) {
    throw new XrayError('resource', `This computer has ${host.totalMemoryMb} MB of memory, less than the ${memoryMb} MB asked for; give the VM less memory.`);
  }
  if (cpus > host.cpuCount) {
    throw new XrayError('resource', `This computer has ${host.cpuCount} CPUs, fewer than the ${cpus} asked for; give the VM at most ${host.cpuCount}.`);
  }
}

/** checkPorts refuses mappings duplicated within the VM or used by another VM. */
export function checkPorts(name: string, ports: readonly PortMapping[], others: readonly VmConfigWithName[]): PortMapping[] {
  const seenHost = new Set<number>();
  for (const mapping of ports) {
    if (!isPort(mapping.host) || !isPort(mapping.guest)) throw new XrayError('invalid-argument', portMappingProblem(formatPortMapping(mapping)));
    if (seenHost.has(mapping.host)) {
      throw new XrayError('invalid-argument', `Host port ${mapping.host} is mapped twice; give each mapping its own host port.`);
    }
    seenHost.add(mapping.host);
    const owner = others.find((o) => o.name !== name && hostPortsOf(o.config).includes(mapping.host));
    if (owner) {
      throw new XrayError('in-use', `Host port ${mapping.host} is already used by VM "${owner.name}"; pick another host port.`);
    }
  }
  return [...ports];
}

/** pickSshPort finds the first port from FIRST_SSH_PORT up that no VM uses and `portFree` says is free. */
export async function pickSshPort(others: readonly VmConfigWithName[], own: readonly PortMapping[], portFree: (port: number) => Promise<boolean>): Promise<number> {
  const taken = new Set<number>(others.flatMap((o) => hostPortsOf(o.config)));
  for (const mapping of own) taken.add(mapping.host);
  for (let port = FIRST_SSH_PORT; port <= 65535; port++) {
    if (taken.has(port)) continue;
    if (await portFree(port)) return port;
  }
  throw new XrayError('resource', 'No free TCP port is left for SSH on 127.0.0.1; stop whatever holds ports from 2222 upward.');
}

/** hostPortsOf lists the host ports a VM holds: its SSH port and every forward. */
export function hostPortsOf(config: VmConfig): number[] {
  return [config.sshPort, ...config.ports.map((p) => p.host)];
}

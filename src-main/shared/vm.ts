// Runs in: anywhere (pure). Facts about VMs every surface needs: limits,
// defaults, what a state means, and the HOST:GUEST port-mapping notation.
import { XrayError } from './errors';
import type { PortMapping, StopMethod, VmStateName } from './models';

/** VM_LIMITS bound what a VM may be given; the contract's schemas, the CLI and the forms all check against them. */
export const VM_LIMITS = {
  memoryMb: { min: 128, max: 1024 * 1024 },
  cpus: { min: 1, max: 64 },
  port: { min: 1, max: 65_535 },
  sshUserLength: { min: 1, max: 64 },
} as const;

/**
 * VM_PREFERRED is what a new VM asks for when nobody says. The engine fits
 * it to the host (never more CPUs than the host has, at most half its
 * memory) and offers the result as `vm.defaults`.
 */
export const VM_PREFERRED = { memoryMb: 4096, cpus: 4, sshUser: 'ubuntu' } as const;

/** VmDefaults is what a new VM gets when nobody says, fitted to this host. */
export interface VmDefaults {
  readonly memoryMb: number;
  readonly cpus: number;
  readonly sshUser: string;
}

/** fitVmDefaults fits VM_PREFERRED to a host: its CPU count, and half its memory in steps of 256 MB. */
export function fitVmDefaults(host: { readonly totalMemoryMb: number; readonly cpuCount: number }): VmDefaults {
  const spare = Math.floor(host.totalMemoryMb / 2 / 256) * 256;
  return {
    memoryMb: Math.max(VM_LIMITS.memoryMb.min, Math.min(VM_PREFERRED.memoryMb, spare)),
    cpus: Math.max(VM_LIMITS.cpus.min, Math.min(VM_PREFERRED.cpus, host.cpuCount)),
    sshUser: VM_PREFERRED.sshUser,
  };
}

/** isActive tells whether a VM has a QEMU (starting, booting, ready or stopping). */
export function isActive(state: VmStateName): boolean {
  return state !== 'stopped' && state !== 'crashed';
}

/** stateLabel is the word a person sees for a state. */
export function stateLabel(state: VmStateName): string {
  return state === 'ready' ? 'running' : state;
}

/** parsePortMapping reads "HOST:GUEST" ("8080:80"); null when it is not two ports. */
export function parsePortMapping(text: string): PortMapping | null {
  const match = /^\s*(\d{1,5})\s*:\s*(\d{1,5})\s*$/.exec(text);
  if (!match) return null;
  const host = Number(match[1]);
  const guest = Number(match[2]);
  return isPort(host) && isPort(guest) ? { host, guest } : null;
}

/** portMappingProblem is the sentence for text parsePortMapping refuses. */
export function portMappingProblem(text: string): string {
  return `The port mapping "${text}" is not HOST:GUEST with ports from ${VM_LIMITS.port.min} to ${VM_LIMITS.port.max}; write it like 8080:80.`;
}

/** requirePortMapping is parsePortMapping for input that must be a mapping: bad text is one sentence. */
export function requirePortMapping(text: string): PortMapping {
  const mapping = parsePortMapping(text);
  if (!mapping) throw new XrayError('invalid-argument', portMappingProblem(text));
  return mapping;
}

export function formatPortMapping(mapping: PortMapping): string {
  return `${mapping.host}:${mapping.guest}`;
}

export function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= VM_LIMITS.port.min && n <= VM_LIMITS.port.max;
}

/** STOPPED_BY words how a VM's stop ended, for a timeline or a status line. */
export const STOPPED_BY: { readonly [M in StopMethod]: string } = {
  'power-button': 'shut down on the power button',
  ssh: 'shut down over SSH',
  kill: 'killed',
  guest: 'shut itself down',
};

/**
 * stopSentence says how a stop ended, in the words every surface shows: a
 * guest that ignored the power button is named as such, and a kill is never
 * passed off as a shutdown.
 */
export function stopSentence(name: string, stoppedBy: StopMethod | null, forced = false): string {
  switch (stoppedBy) {
    case 'power-button':
      return `VM "${name}" shut down on the power button.`;
    case 'ssh':
      return `VM "${name}" did not answer the power button; shut down over SSH.`;
    case 'kill':
      return forced ? `VM "${name}" was killed.` : `VM "${name}" did not shut down when asked, so it was killed.`;
    case 'guest':
      return `VM "${name}" shut itself down.`;
    case null:
      return `VM "${name}" is stopped.`;
  }
}

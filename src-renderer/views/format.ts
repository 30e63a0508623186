// Runs in: renderer. Small formatting helpers shared by the views.
import type { Destination, PortMapping, VmStateName } from '../../src-main/shared/models';

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function formatPorts(ports: readonly PortMapping[]): string {
  return ports.map((p) => `${p.host}→${p.guest}`).join(', ');
}

/** stateLabel is the word a user sees for a VM state. */
export function stateLabel(state: VmStateName): string {
  return state === 'ready' ? 'running' : state;
}

export function isRunning(state: VmStateName): boolean {
  return state !== 'stopped' && state !== 'crashed';
}

export function destinationText(d: Destination): string {
  const host = d.name ?? d.ip ?? 'unknown';
  return `${host}:${d.port}`;
}

/** programName is the program a guest command line runs: "/usr/bin/curl -s URL" → "curl"; null when there is none. */
export function programName(command: string): string | null {
  const first = command.trim().split(/\s+/)[0] ?? '';
  return first.split('/').pop() || null;
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

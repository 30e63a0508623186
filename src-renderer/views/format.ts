// Runs in: renderer. Small formatting helpers shared by the views.
import type { Destination, PortMapping } from '../../src-main/shared/models';

export function formatPorts(ports: readonly PortMapping[]): string {
  return ports.map((p) => `${p.host}→${p.guest}`).join(', ');
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

// Runs in: renderer. Small formatting helpers shared by the views.
import type { PortMapping } from '../../src-main/shared/models';

export function formatPorts(ports: readonly PortMapping[]): string {
  return ports.map((p) => `${p.host}→${p.guest}`).join(', ');
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

// Runs in: renderer. Small formatting helpers shared by the views.
import type { PortMapping } from '../../src-main/shared/models';

export function formatPorts(ports: readonly PortMapping[]): string {
  return ports.map((p) => `${p.host}→${p.guest}`).join(', ');
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** formatDuration says how long something took or will take, as precisely as a person cares: 850 ms, 2.3 s, 4 min 5 s, 2 h 10 min. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.floor(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const shortTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** formatShortTime is a moment in a list's narrow column: day and time to the second, made by one formatter (a list draws many). */
export function formatShortTime(ms: number): string {
  return Number.isNaN(ms) ? '—' : shortTime.format(ms);
}

// Runs in: anywhere (pure). How sizes, durations and timeline entries read, on every surface.
import type { Destination, RuleLifetime, TimelineEntry } from './models';

/** formatBytes renders a size the way a person reads it: 512 B, 1.5 GiB, 20 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 10 ? 0 : 1)} ${units[unit]}`;
}

/** formatDuration renders seconds as a person reads a wait: 45 s, 3 min 20 s, 1 h 5 min. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
}

/** transferText says how a download goes: "120 MiB of 600 MiB, 12 MiB/s, 40 s left" (the total unknown: "120 MiB, 12 MiB/s"). */
export function transferText(done: number, total: number, bytesPerSecond: number): string {
  const rate = bytesPerSecond > 0 ? `, ${formatBytes(bytesPerSecond)}/s` : '';
  if (total <= 0) return `${formatBytes(done)}${rate}`;
  const left = bytesPerSecond > 0 ? `, ${formatDuration((total - done) / bytesPerSecond)} left` : '';
  return `${formatBytes(done)} of ${formatBytes(total)}${rate}${left}`;
}

/** destinationText names a destination as a person reads it: its name, else its address, and the port. */
export function destinationText(d: Destination): string {
  return `${d.name ?? d.ip ?? 'unknown'}:${d.port}`;
}

/** timelineText says in a few words what a timeline entry records: "allowed api.github.com:443 (rule *.github.com)". */
export function timelineText(entry: TimelineEntry): string {
  switch (entry.kind) {
    case 'lifecycle':
      return `${entry.event === 'ready' ? 'ready' : entry.event}${entry.detail ? ` (${entry.detail})` : ''}`;
    case 'snapshot':
      return `snapshot "${entry.name}" ${entry.event}${entry.detail ? `: ${entry.detail}` : ''}`;
    case 'network':
      return `${entry.action === 'allow' ? 'allowed' : 'denied'} ${destinationText(entry.destination)} (${entry.reason})`;
    case 'prompt': {
      const where = entry.destination ? destinationText(entry.destination) : 'a destination';
      const who = entry.program ? `${entry.program} ` : '';
      return entry.event === 'opened' ? `${who}asked to reach ${where}` : `prompt for ${where}: ${entry.action} (${entry.reason})`;
    }
    case 'hook':
      return `${entry.type} hook ${entry.script} ${entry.error === null && entry.exitCode === 0 ? 'succeeded' : `failed (${entry.error ?? `exit ${entry.exitCode}`})`}`;
  }
}

/** lifetimeText says how long a rule lasts; `time` renders the end of a rule that lasts a while. */
export function lifetimeText(lifetime: RuleLifetime, time: (iso: string) => string = (iso) => iso): string {
  switch (lifetime.kind) {
    case 'once':
      return 'once';
    case 'duration':
      return `until ${time(lifetime.until)}`;
    case 'until-stop':
      return 'until the VM stops';
    case 'forever':
      return 'forever';
  }
}

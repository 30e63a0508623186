// Runs in: anywhere (pure). How sizes, durations and timeline entries read, on every surface.
import { describeEgressReport } from './egress';
import type { Destination, HttpRequestLine, RuleLifetime, TimelineEntry } from './models';

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

/**
 * questionText names what a prompt asks about: the destination
 * ("example.com:443"), or for a request the method, host and path
 * ("POST api.github.com/gists").
 */
export function questionText(q: { readonly destination: Destination; readonly request?: HttpRequestLine | undefined }): string {
  if (!q.request) return destinationText(q.destination);
  return `${q.request.method} ${q.destination.name ?? q.destination.ip ?? 'unknown'}${q.request.path}`;
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
      const where = entry.destination ? questionText({ destination: entry.destination, request: entry.request }) : 'a destination';
      const who = entry.program ? `${entry.program} ` : '';
      const asked = entry.request ? `${who}asked to send ${where}` : `${who}asked to reach ${where}`;
      return entry.event === 'opened' ? asked : `prompt for ${where}: ${entry.action} (${entry.reason})`;
    }
    case 'hook':
      return `${entry.type} hook ${entry.script} ${entry.error === null && entry.exitCode === 0 ? 'succeeded' : `failed (${entry.error ?? `exit ${entry.exitCode}`})`}`;
    case 'egress':
      return describeEgressReport(entry.report);
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

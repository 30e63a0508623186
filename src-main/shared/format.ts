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

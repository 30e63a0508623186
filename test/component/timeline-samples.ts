// Test helper: a VM's timeline as the tests and screenshots show it: two
// snapshots, the network, hook and start events between them, a revert.
import type { Destination, SnapshotInfo, TimelineEntry } from '../../src-main/shared/models';

/** at is a moment on the sample day. */
export const at = (time: string) => `2025-03-01T${time}Z`;

const to = (name: string): Destination => ({ ip: '198.51.100.7', port: 443, name, nameSource: 'sni', service: 'https' });

/** network is a connection decided for VM "dev": by `rule` (its id), or by a person when there is none. */
export const network = (time: string, name: string, action: 'allow' | 'deny', rule: string | null): TimelineEntry => ({
  at: at(time),
  vm: 'dev',
  kind: 'network',
  action,
  destination: to(name),
  reason: rule ? `rule ${rule}` : 'asked',
  rule,
});

export const sampleSnapshots: SnapshotInfo[] = [
  { name: 'configured', date: at('11:00:00'), vmStateSize: 0, hasMemory: false, description: 'tools installed' },
  { name: 'clean', date: at('10:00:00'), vmStateSize: 0, hasMemory: false, description: null },
];

export const sampleTimeline: TimelineEntry[] = [
  { at: at('09:59:00'), vm: 'dev', kind: 'lifecycle', event: 'ready', detail: null },
  { at: at('10:00:00'), vm: 'dev', kind: 'snapshot', event: 'created', name: 'clean', detail: null },
  network('10:05:00', 'api.github.com', 'allow', '*.github.com'),
  network('10:30:00', 'evil.example', 'deny', null),
  { at: at('10:45:00'), vm: 'dev', kind: 'hook', type: 'boot', script: '10-setup.sh', source: 'vm', exitCode: 0, error: null, durationMs: 1200 },
  { at: at('11:00:00'), vm: 'dev', kind: 'snapshot', event: 'created', name: 'configured', detail: null },
  network('11:10:00', 'deb.debian.org', 'allow', 'default:*.debian.org'),
  { at: at('11:20:00'), vm: 'dev', kind: 'snapshot', event: 'reverted', name: 'clean', detail: null },
  network('11:30:00', 'pypi.org', 'allow', 'pypi.org:443'),
];

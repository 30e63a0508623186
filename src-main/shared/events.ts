// Runs in: anywhere (pure). Everything the service announces to its
// subscribers, as one union; contract.ts re-exports it.
import type { PromptCloseReason } from './enums';
import type { EgressReport } from './egress';
import type { OpenConnection } from './live';
import type {
  BootDiagnosis,
  CrashReport,
  Destination,
  FirewallLogEntry,
  FirewallPrompt,
  GuestProcess,
  HookRun,
  RuleAction,
  StopMethod,
  TimelineEntry,
  VmStateName,
} from './models';

/** XrayEvent is everything the service announces; a discriminated union on `type`. */
export type XrayEvent =
  /** vm.state: a VM's state changed; a crash says why, a stop says how it ended (stoppedBy). */
  | { readonly type: 'vm.state'; readonly vm: string; readonly state: VmStateName; readonly previous: VmStateName; readonly crash?: CrashReport; readonly stoppedBy?: StopMethod }
  | { readonly type: 'vm.changed'; readonly vm: string }
  /** vm.diagnosis: a booting VM has not let Xray log in within its boot_timeout, and this is why (it stays booting). */
  | { readonly type: 'vm.diagnosis'; readonly vm: string; readonly diagnosis: BootDiagnosis }
  | { readonly type: 'vm.removed'; readonly vm: string }
  /** console.output: what a VM printed on its serial console, from position `start` of its live console `stream` (see ConsoleScrollback). */
  | { readonly type: 'console.output'; readonly vm: string; readonly stream: string; readonly start: number; readonly text: string }
  /** base.progress: an import copying (total known) or a pull downloading (total 0 until the server says). */
  | {
      readonly type: 'base.progress';
      readonly name: string;
      readonly done: number;
      readonly total: number;
      readonly phase?: 'download' | 'import';
      readonly bytesPerSecond?: number;
    }
  | { readonly type: 'base.changed' }
  /** snapshot.progress: a snapshot operation running, done or failed; a new snapshot's description comes with it. */
  | {
      readonly type: 'snapshot.progress';
      readonly vm: string;
      readonly name: string;
      readonly operation: 'create' | 'revert' | 'delete';
      readonly status: 'running' | 'done' | 'failed';
      readonly error?: string;
      readonly description?: string;
    }
  | { readonly type: 'prompt.opened'; readonly prompt: FirewallPrompt }
  | { readonly type: 'prompt.updated'; readonly prompt: FirewallPrompt; readonly guestProcess?: GuestProcess }
  | { readonly type: 'prompt.closed'; readonly id: string; readonly vm: string; readonly action: RuleAction; readonly reason: PromptCloseReason }
  /** firewall.decision: one connection decided; `rule` is the id of the rule that decided it (to revoke it), if one did. */
  | { readonly type: 'firewall.decision'; readonly vm: string; readonly destination: Destination; readonly action: RuleAction; readonly reason: string; readonly rule: string | null }
  | { readonly type: 'firewall.connection'; readonly entry: FirewallLogEntry }
  /** firewall.connections: a followed VM's open connections now, at most once a second and only when they changed. */
  | { readonly type: 'firewall.connections'; readonly vm: string; readonly connections: OpenConnection[] }
  /** firewall.status: whether the guest was verified to send all TCP through its firewall. */
  | { readonly type: 'firewall.status'; readonly vm: string; readonly active: boolean }
  | { readonly type: 'hook.started'; readonly run: HookRun }
  | { readonly type: 'hook.output'; readonly vm: string; readonly script: string; readonly stream: 'stdout' | 'stderr'; readonly text: string }
  | { readonly type: 'hook.finished'; readonly run: HookRun }
  /** egress.report: what the egress interceptor did with a VM's secrets and HTTP requests (see EgressReport). */
  | { readonly type: 'egress.report'; readonly report: EgressReport }
  /** timeline.entry: one thing a VM did, as its timeline records it (vm.timeline reads them back). */
  | { readonly type: 'timeline.entry'; readonly entry: TimelineEntry }
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly source: string; readonly message: string };

/** EventType is the `type` of some XrayEvent. */
export type EventType = XrayEvent['type'];

// Runs in: anywhere (plain data shared by core, CLI, Electron and renderer).
// Types only: nothing here may import Node or DOM APIs. The closed sets of
// words (states, actions, scopes…) are zod enums in enums.ts. Hooks, settings,
// secrets and the timeline are here; VMs and the firewall in vm-models.ts and
// firewall-models.ts, re-exported so importers need only this file.
import type { EgressReport } from './egress';
import type { DefaultAction, HookSource, HookType, RuleAction, SecretBackendKind } from './enums';
import type { Destination, HttpRequestLine } from './firewall-models';

export type { Accelerator, BootProblem, GuestArch, HookSource, HookType, PromptLifetime, PromptScope, RuleAction, StopMethod, VmStateName } from './enums';
export type {
  AutoSnapshotsInfo,
  BaseInfo,
  BootDiagnosis,
  ConsoleScrollback,
  CrashReport,
  DiskChainEntry,
  PortMapping,
  Share,
  ShareChange,
  SnapshotInfo,
  VmInfo,
  VmStopResult,
  VmSummary,
} from './vm-models';
export type { Destination, FirewallLogEntry, FirewallPrompt, FirewallRule, GuestProcess, HttpMatch, HttpRequestLine, RuleLifetime, RuleTarget } from './firewall-models';

/** HookRun is one run of a hook script in a VM, running or finished. */
export interface HookRun {
  readonly vm: string;
  readonly type: HookType;
  readonly script: string;
  readonly source: HookSource;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly exitCode: number | null;
  readonly error: string | null;
}

/** HookRunRecord is a finished hook run as the Hooks tab shows it: the run, how long it took, and the end of its output. */
export interface HookRunRecord {
  readonly run: HookRun;
  readonly durationMs: number | null;
  /** output is the run's last lines, stdout and stderr interleaved, each marked. */
  readonly output: readonly { readonly stream: 'stdout' | 'stderr'; readonly text: string }[];
}

/** GlobalSettings is config.toml as the service reads it. */
export interface GlobalSettings {
  /** autostart: true launches Xray at login; a list names VMs started when Xray starts. */
  readonly autostart: boolean | readonly string[];
  readonly promptTimeoutSeconds: number;
  readonly defaultAction: DefaultAction;
  readonly denyWhenNoClient: boolean;
  readonly stopTimeoutSeconds: number;
  /** bootTimeoutSeconds is how long a guest may take to let Xray log in before it is diagnosed; null: by accelerator. */
  readonly bootTimeoutSeconds: number | null;
  readonly sshKey: string | null;
  readonly firmware: Readonly<Record<string, string>>;
  /** dnsServers answer the guests' lookups ("IP" or "IP:PORT"); empty follows the host's resolver. */
  readonly dnsServers: readonly string[];
  /** imageMirror, when set, is where `base pull` fetches catalog images and checksums from instead. */
  readonly imageMirror: string | null;
  /** upstreamCaFile names extra CA certificates the egress proxy trusts when it verifies intercepted hosts' servers. */
  readonly upstreamCaFile: string | null;
  /** autoSnapshots: VMs take snapshots by themselves (after the first boot, before risky hooks), unless their vm.toml says otherwise. */
  readonly autoSnapshots: boolean;
  /** autoSnapshotsKeep is how many automatic snapshots each VM keeps; older automatic ones are deleted, never a person's. */
  readonly autoSnapshotsKeep: number;
}

/** SecretInfo is what may be shown of a secret kept on the host: never its value. */
export interface SecretInfo {
  readonly name: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** SecretBackendInfo says where secrets are kept and why that place was chosen. */
export interface SecretBackendInfo {
  readonly kind: SecretBackendKind;
  readonly reason: string;
}

/**
 * SecretBinding gives a VM a secret for some hosts: the guest holds only
 * `placeholder` (in the environment variable `env`), and the egress proxy
 * puts the value, written into `format` at `{}`, in `header` of requests to
 * `hosts`. It never holds the value.
 */
export interface SecretBinding {
  readonly secret: string;
  /** hosts are names (`api.github.com`) or `*.domain` patterns. */
  readonly hosts: readonly string[];
  readonly header: string;
  readonly format: string;
  readonly placeholder: string;
  readonly env: string;
}

/** TimelineEntry is one thing a VM did, as its timeline (journal.jsonl) keeps it. */
export type TimelineEntry =
  | { readonly at: string; readonly vm: string; readonly kind: 'lifecycle'; readonly event: 'starting' | 'ready' | 'stopped' | 'crashed'; readonly detail: string | null }
  | {
      readonly at: string;
      readonly vm: string;
      readonly kind: 'snapshot';
      readonly event: 'created' | 'reverted' | 'deleted' | 'failed';
      readonly name: string;
      readonly detail: string | null;
    }
  | {
      readonly at: string;
      readonly vm: string;
      readonly kind: 'network';
      readonly action: RuleAction;
      readonly destination: Destination;
      readonly reason: string;
      /** rule is the id of the rule that decided, so the timeline can offer to revoke it. */
      readonly rule: string | null;
    }
  | {
      readonly at: string;
      readonly vm: string;
      readonly kind: 'prompt';
      readonly event: 'opened' | 'closed';
      readonly id: string;
      readonly destination: Destination | null;
      /** request is the HTTP request asked about, for a prompt about one. */
      readonly request?: HttpRequestLine;
      /** action and reason say how a closed prompt ended; program, who asked. */
      readonly action: RuleAction | null;
      readonly reason: string | null;
      readonly program: string | null;
    }
  | {
      readonly at: string;
      readonly vm: string;
      readonly kind: 'hook';
      readonly type: HookType;
      readonly script: string;
      readonly source: HookSource;
      readonly exitCode: number | null;
      readonly error: string | null;
      readonly durationMs: number | null;
    }
  /** egress: the interceptor refused or masked something, or could not do its work (a secret's use is not journalled: it is every request). */
  | { readonly at: string; readonly vm: string; readonly kind: 'egress'; readonly report: EgressReport };

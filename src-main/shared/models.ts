// Runs in: anywhere (plain data shared by core, CLI, Electron and renderer).
// Types only: nothing here may import Node or DOM APIs. The closed sets of
// words (states, actions, scopes…) are zod enums in enums.ts.
import type { EgressReport } from './egress';
import type { Accelerator, BootProblem, DefaultAction, GuestArch, HookSource, HookType, RuleAction, SecretBackendKind, StopMethod, VmStateName } from './enums';

export type { Accelerator, BootProblem, GuestArch, HookSource, HookType, PromptLifetime, PromptScope, RuleAction, StopMethod, VmStateName } from './enums';

export interface PortMapping {
  readonly host: number;
  readonly guest: number;
}

/** Share is a host folder a VM sees over virtio-9p, mounted at guestPath by the built-in boot hook. */
export interface Share {
  /** hostPath is the folder's real path on the host (symbolic links resolved when it was added). */
  readonly hostPath: string;
  readonly guestPath: string;
  readonly readOnly: boolean;
}

/** ShareChange is what share.add and share.remove answer: the share, and whether the running VM waits for its next start. */
export interface ShareChange {
  readonly share: Share;
  /** vmRunning: the VM runs now, so the change is seen from its next start. */
  readonly vmRunning: boolean;
}

export interface CrashReport {
  readonly at: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly consoleTail: readonly string[];
  readonly stderrTail: readonly string[];
}

/**
 * ConsoleScrollback is the end of a VM's serial console and where it stands:
 * `stream` names the live console of the QEMU that runs now (null when none
 * runs: `text` is then the end of console.log) and `end` is the position
 * just after `text` in that stream, where console.output events go on.
 */
export interface ConsoleScrollback {
  readonly stream: string | null;
  readonly end: number;
  readonly text: string;
}

/**
 * BootDiagnosis is why a VM still booting has not let Xray log in within its
 * boot_timeout, from what Xray can see: its serial console, its SSH port and
 * what its sshd said to Xray's key. The VM keeps running and Xray keeps trying.
 */
export interface BootDiagnosis {
  readonly problem: BootProblem;
  /** message is the one sentence a person can act on. */
  readonly message: string;
  readonly at: string;
  /** consoleTail is the end of this boot's serial console, escape codes removed. */
  readonly consoleTail: readonly string[];
}

export interface VmSummary {
  readonly name: string;
  readonly state: VmStateName;
  readonly base: string;
  readonly arch: GuestArch;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly sshPort: number;
  readonly sshUser: string;
  readonly ports: readonly PortMapping[];
  readonly pid: number | null;
  readonly accelerator: Accelerator | null;
  readonly firewallActive: boolean;
  readonly openConnections: number;
  readonly pendingPrompts: number;
  readonly crash: CrashReport | null;
  /** diagnosis says why a booting VM has not answered once its boot_timeout passed; null otherwise. */
  readonly diagnosis: BootDiagnosis | null;
  /** configError is set when vm.toml cannot be read; the VM still lists. */
  readonly configError: string | null;
}

/** VmStopResult is what vm.stop answers: the VM, and how it ended (null when it was not running). */
export interface VmStopResult extends VmSummary {
  readonly stoppedBy: StopMethod | null;
}

export interface DiskChainEntry {
  readonly filename: string;
  readonly format: string;
  readonly virtualSize: number;
  readonly actualSize: number;
  readonly backingFilename: string | null;
}

export interface VmInfo {
  readonly summary: VmSummary;
  readonly config: Record<string, unknown>;
  readonly diskChain: readonly DiskChainEntry[];
  readonly snapshots: readonly SnapshotInfo[];
  readonly autoSnapshots: AutoSnapshotsInfo;
}

export interface BaseInfo {
  readonly name: string;
  readonly arch: GuestArch;
  readonly virtualSize: number;
  readonly fileSize: number;
  readonly linked: boolean;
  readonly source: string | null;
  readonly importedAt: string | null;
  readonly cloudInit: boolean;
  readonly usedBy: readonly string[];
}

export interface SnapshotInfo {
  readonly name: string;
  readonly date: string;
  readonly vmStateSize: number;
  readonly hasMemory: boolean;
  readonly description: string | null;
  /** auto is true for a snapshot Xray took by itself (after the first boot, before a risky hook); only those are pruned. */
  readonly auto?: boolean;
}

/** AutoSnapshotsInfo is whether a VM takes automatic snapshots, whether that follows config.toml, and how many it keeps. */
export interface AutoSnapshotsInfo {
  readonly enabled: boolean;
  /** fromDefault is true when vm.toml says nothing and config.toml's auto_snapshots decides. */
  readonly fromDefault: boolean;
  readonly keep: number;
}

/** RuleLifetime says how long a firewall rule lasts. */
export type RuleLifetime =
  | { readonly kind: 'once' }
  | { readonly kind: 'duration'; readonly until: string }
  | { readonly kind: 'until-stop' }
  | { readonly kind: 'forever' };

/**
 * HttpMatch narrows a host rule to some of its HTTP requests: a set of
 * methods (null: any method) and a path pattern (null: any path), where `*`
 * stands for any run of characters, `/` included. A rule that has one is
 * decided request by request on an intercepted connection, never for a
 * whole connection.
 */
export interface HttpMatch {
  readonly methods: readonly string[] | null;
  readonly path: string | null;
}

/**
 * RuleTarget is what a rule matches: a port of `null` means any port.
 * `domain` matches that name exactly; `domain-suffix` matches it and every
 * sub-domain (`*.example.com`). Only name targets may carry `http`: a
 * request is matched by the name its TLS connection was made for.
 */
export type RuleTarget =
  | { readonly kind: 'ip'; readonly ip: string; readonly port: number | null }
  | { readonly kind: 'cidr'; readonly cidr: string; readonly port: number | null }
  | { readonly kind: 'domain'; readonly domain: string; readonly port: number | null; readonly http?: HttpMatch }
  | { readonly kind: 'domain-suffix'; readonly domain: string; readonly port: number | null; readonly http?: HttpMatch };

export interface FirewallRule {
  readonly id: string;
  readonly target: RuleTarget;
  readonly action: RuleAction;
  readonly lifetime: RuleLifetime;
  readonly source: 'vm' | 'default' | 'session';
}

/** Destination is the identity of one outbound connection. */
export interface Destination {
  readonly ip: string | null;
  readonly port: number;
  /** name is the best name known: SOCKS domain, TLS SNI, HTTP Host or a DNS answer. */
  readonly name: string | null;
  readonly nameSource: 'socks' | 'sni' | 'http-host' | 'dns' | null;
  readonly service: string | null;
}

export interface GuestProcess {
  readonly pid: number;
  readonly command: string;
  readonly user: string | null;
}

/** HttpRequestLine is an HTTP request as a prompt shows it: its method and normalized path, without the query. */
export interface HttpRequestLine {
  readonly method: string;
  readonly path: string;
}

export interface FirewallPrompt {
  readonly id: string;
  readonly vm: string;
  readonly destination: Destination;
  /** request is there when the question is one HTTP request on an intercepted connection rather than the connection. */
  readonly request?: HttpRequestLine;
  readonly openedAt: string;
  readonly deadline: string;
  readonly waitingConnections: number;
  readonly guestProcess: GuestProcess | null;
}

export interface FirewallLogEntry {
  readonly at: string;
  readonly vm: string;
  readonly kind: 'decision' | 'connection' | 'dns';
  readonly destination: Destination;
  readonly action?: RuleAction;
  readonly reason?: string;
  readonly bytesUp?: number;
  readonly bytesDown?: number;
  readonly durationMs?: number;
  readonly addresses?: readonly string[];
}

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

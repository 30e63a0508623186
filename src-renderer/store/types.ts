// Runs in: renderer. The store's shape, slice by slice: what each one holds,
// the actions views call, and the events that move it. Slices import these
// types; nothing here imports a slice, so the store has no import cycles.
import type { CatalogEntry, Params, PluginInfo, Results, XrayEvent } from '../../src-main/shared/contract';
import type { ClientPlatform } from '../../src-main/shared/client';
import type { ConsoleOutput, ConsoleView } from '../../src-main/shared/console';
import type { EgressReport } from '../../src-main/shared/egress';
import type {
  BaseInfo,
  FirewallLogEntry,
  FirewallPrompt,
  FirewallRule,
  GuestArch,
  HookRunRecord,
  PortMapping,
  Share,
  ShareChange,
  SnapshotInfo,
  TimelineEntry,
  VmInfo,
  VmSummary,
} from '../../src-main/shared/models';
import type { GuestListener, OpenConnection, PortChange } from '../../src-main/shared/live';
import type { VmDefaults } from '../../src-main/shared/vm';
import type { XrayClient } from '../client/types';
import type { PolicyExport, PolicyImport } from '../../src-main/shared/policy';
import type { MessagesSlice } from './message-types';

/** Loadable is data fetched on demand: not yet there, there, or the error that came instead. */
export type Loadable<T> =
  | { readonly status: 'loading' }
  | { readonly status: 'ready'; readonly value: T }
  | { readonly status: 'error'; readonly message: string };

/** PerVm is a record by VM name; each VM's entry is its own object, so one VM's change leaves the others' identical. */
export type PerVm<T> = Readonly<Record<string, T>>;

/** View is what the window's main area shows. */
export type View = { readonly kind: 'vms' } | { readonly kind: 'vm'; readonly name: string } | { readonly kind: 'bases' };

export type SnapshotOperation = 'create' | 'revert' | 'delete';

/** SnapshotRequest is one snapshot operation a user asks for; only a new snapshot carries a note. */
export type SnapshotRequest =
  | { readonly operation: 'create'; readonly name: string; readonly description?: string }
  | { readonly operation: 'revert' | 'delete'; readonly name: string };

/** SnapshotJob is a VM's latest snapshot operation, as its progress events tell it. */
export interface SnapshotJob {
  readonly name: string;
  readonly operation: SnapshotOperation;
  readonly status: 'running' | 'done' | 'failed';
  readonly error?: string;
}

/** ImportJob is the one import this window runs: `id` tells its events from those of an import cancelled before it. */
export interface ImportJob {
  readonly id: number;
  readonly file: string;
  /** base is the name the new base image gets. */
  readonly base: string;
  readonly phase: 'uploading' | 'importing' | 'failed' | 'done';
  readonly done: number;
  readonly total: number;
  readonly error?: string;
}

/**
 * ImportEvent is what the renderer itself sees of an import: the upload (the
 * API knows nothing of it) and the call's outcome. Only `import.started`
 * makes a job; the others apply to the job with their id, so an import that
 * was cancelled cannot bring its job back.
 */
export type ImportEvent =
  | { readonly type: 'import.started'; readonly id: number; readonly file: string; readonly base: string; readonly phase: 'uploading' | 'importing'; readonly total: number }
  | { readonly type: 'import.uploaded'; readonly id: number; readonly done: number; readonly total: number }
  | { readonly type: 'import.importing'; readonly id: number }
  | { readonly type: 'import.finished'; readonly id: number; readonly error: string | null }
  | { readonly type: 'import.dismissed' };

/** PullJob is an image this window is getting from the catalog, as its progress events tell it. */
export interface PullJob {
  readonly name: string;
  readonly arch: GuestArch;
  readonly title: string;
  /** phase: asked, downloading, checking and importing, being cancelled, or failed (with why). */
  readonly phase: 'starting' | 'download' | 'import' | 'cancelling' | 'failed';
  readonly done: number;
  /** total is 0 until the server has said how big the download is. */
  readonly total: number;
  readonly bytesPerSecond: number | null;
  readonly error?: string;
}

/**
 * PullEvent is what the renderer itself sees of a pull: the call's start and
 * outcome (progress comes as the API's base.progress). A finished pull that
 * worked or was cancelled leaves no job; a failed one stays until dismissed.
 */
export type PullEvent =
  | { readonly type: 'pull.started'; readonly name: string; readonly arch: GuestArch; readonly title: string }
  | { readonly type: 'pull.cancelling'; readonly name: string }
  | { readonly type: 'pull.finished'; readonly name: string; readonly error: string | null }
  | { readonly type: 'pull.dismissed'; readonly name: string };

/** StoreEvent is everything the event handler applies: the API's events and the renderer's own. */
export type StoreEvent = XrayEvent | ImportEvent | PullEvent;

export interface NavigationSlice {
  readonly view: View;
  /** newVm is the New VM dialog when it is open, with the base it starts on (null: the first). */
  readonly newVm: { readonly base: string | null } | null;
  show(view: View): void;
  openNewVm(base?: string | null): void;
  closeNewVm(): void;
  /** load fetches what the window shows first: VMs, bases and waiting prompts. */
  load(): Promise<void>;
}

export interface VmsSlice {
  readonly vms: PerVm<VmSummary>;
  /** vmNames is the list order (alphabetical); it changes only when VMs come or go. */
  readonly vmNames: readonly string[];
  readonly vmsError: string | null;
  readonly vmsLoaded: boolean;
  readonly info: PerVm<Loadable<VmInfo>>;
  /** actionErrors holds why the last start or stop of a VM failed. */
  readonly actionErrors: PerVm<string>;
  /** stopNotices says how each VM's last stop ended (stopSentence), until it starts again. */
  readonly stopNotices: PerVm<string>;
  /** stopRequests holds the stop this window last asked for, per VM, until it starts again: a gentle one, or a force stop. */
  readonly stopRequests: PerVm<'stop' | 'force'>;
  /** defaults is what a new VM gets on this host (`vm.defaults`); null until asked for. */
  readonly defaults: Loadable<VmDefaults> | null;
  /** listening holds the TCP ports each shown VM's guest listens on (null: it is not ready to be asked). */
  readonly listening: PerVm<Loadable<readonly GuestListener[] | null>>;
  refreshVms(): Promise<void>;
  refreshVm(name: string): Promise<void>;
  loadDefaults(): Promise<void>;
  startVm(name: string): Promise<void>;
  /** stopVm stops a VM gently (power button, then SSH, then kill), or with `force` at once (cutting short a gentle stop under way). */
  stopVm(name: string, force?: boolean): Promise<void>;
  createVm(params: Params<'vm.create'>): Promise<VmSummary>;
  updateVm(params: Params<'vm.update'>): Promise<void>;
  /** addPort forwards a port: at once on a running VM (`live`), else from its next start. */
  addPort(vm: string, mapping: PortMapping): Promise<PortChange>;
  removePort(vm: string, mapping: PortMapping): Promise<void>;
  /** loadListening asks the VM's guest which TCP ports it listens on. */
  loadListening(vm: string): Promise<void>;
}

export interface DetailSlice {
  readonly snapshots: PerVm<Loadable<readonly SnapshotInfo[]>>;
  /** snapshotJobs holds each VM's latest snapshot operation; only the event handler writes it. */
  readonly snapshotJobs: PerVm<SnapshotJob>;
  readonly hookScripts: PerVm<Loadable<Results['hooks.list']>>;
  /**
   * hookRuns holds each VM's newest hook runs, oldest first: those the service
   * kept (`hooks.runs`), then those seen live, a running one with the output
   * it has printed so far.
   */
  readonly hookRuns: PerVm<Loadable<readonly HookRunRecord[]>>;
  /** shares holds each VM's shared folders as vm.toml has them (fetched again on vm.changed). */
  readonly shares: PerVm<Loadable<readonly Share[]>>;
  readonly plugins: Loadable<readonly PluginInfo[]> | null;
  /** loadDetail fetches everything a VM's tabs show. */
  loadDetail(name: string): Promise<void>;
  refreshSnapshots(vm: string): Promise<void>;
  /** runSnapshot takes, reverts to or deletes a snapshot; its progress shows in snapshotJobs. */
  runSnapshot(vm: string, request: SnapshotRequest): Promise<void>;
  loadHookRuns(vm: string): Promise<void>;
  loadShares(vm: string): Promise<void>;
  /** addShare shares a host folder with a VM (seen from its next start); it fails with the service's sentence. */
  addShare(vm: string, share: Omit<Params<'share.add'>, 'vm'>): Promise<ShareChange>;
  /** removeShare stops sharing the folder at a guest path (from the VM's next start). */
  removeShare(vm: string, guestPath: string): Promise<ShareChange>;
  loadPlugins(): Promise<void>;
  /** runPlugin runs a plugin's command against a VM and resolves with what it printed. */
  runPlugin(plugin: string, command: string, vm: string): Promise<string>;
}

export interface ConsoleSlice {
  /**
   * attachConsole feeds a view a VM's serial console: its scrollback, then
   * its output, a new scrollback when the VM runs again; `failed` says why a
   * scrollback could not be fetched. The returned function stops the feed.
   */
  attachConsole(vm: string, view: ConsoleView & { failed(message: string): void }): () => void;
  /** typeIntoConsole sends keys to a VM's serial console, after those typed before; rejects with the service's sentence. */
  typeIntoConsole(vm: string, data: string): Promise<void>;
  /** onConsoleOutput hands a console.output event to the views fed that VM's console (handleEvent calls it). */
  onConsoleOutput(event: ConsoleOutput): void;
}

export interface TimelineSlice {
  /** timelines holds what each VM did, oldest first: the newest TIMELINE_LIMIT entries, fetched once and followed live. */
  readonly timelines: PerVm<Loadable<readonly TimelineEntry[]>>;
  /** loadTimeline fetches a VM's timeline the first time it is shown, or again after an error; entries then arrive as events. */
  loadTimeline(vm: string): Promise<void>;
}

/**
 * SecretRefusal is a refused attempt to send a secret where it is not bound,
 * kept until the user dismisses it: the latest report, how many times the
 * same secret went to the same place of the same host, and whether the user
 * has since let the secret go to that host (bound it there).
 */
export interface SecretRefusal {
  readonly key: string;
  readonly report: Extract<EgressReport, { kind: 'secret-refused' }>;
  readonly count: number;
  readonly allowed: boolean;
}

export interface FirewallSlice {
  readonly prompts: readonly FirewallPrompt[];
  readonly promptsError: string | null;
  /**
   * abandonedPrompts are prompts that closed because every connection waiting
   * on them went away before anyone answered, oldest first; the window says so
   * briefly, so a question that vanishes unanswered is not a mystery.
   */
  readonly abandonedPrompts: readonly FirewallPrompt[];
  readonly rules: PerVm<Loadable<readonly FirewallRule[]>>;
  readonly firewallLog: PerVm<Loadable<readonly FirewallLogEntry[]>>;
  /** connections holds each followed VM's open connections, as `firewall.connections` answered and its events since. */
  readonly connections: PerVm<Loadable<readonly OpenConnection[]>>;
  refreshPrompts(): Promise<void>;
  answerPrompt(params: Params<'prompt.answer'>): Promise<void>;
  /** clearAbandoned forgets the abandoned prompts once their notice has been shown. */
  clearAbandoned(): void;
  /** secretRefusals are the exfiltration attempts shown until dismissed, oldest first, at most REFUSALS_SHOWN. */
  readonly secretRefusals: readonly SecretRefusal[];
  /**
   * allowSecretHost binds the refused secret to the refused host as well
   * (secret.bind with the binding's hosts and that one), so later requests
   * there get the value in its header; the refused request is not sent again.
   * Rejects with a sentence when the binding is gone.
   */
  allowSecretHost(key: string): Promise<void>;
  /** dismissRefusal forgets a refusal: the user keeps refusing, or has read that the host is allowed. */
  dismissRefusal(key: string): void;
  loadRules(vm: string): Promise<void>;
  loadFirewallLog(vm: string): Promise<void>;
  /** followConnections fetches a VM's open connections and keeps them announced for a while; call it again before CONNECTIONS_FOLLOW_MS passes. */
  followConnections(vm: string): Promise<void>;
  /** addRule adds a rule, or changes the rule for that target (a rule's id is its target, so adding replaces it); rejects with the service's sentence. */
  addRule(params: Params<'firewall.add'>): Promise<void>;
  /** removeRule removes a VM's rule by id; rejects with a sentence when it cannot (a default rule, or one already gone). */
  removeRule(vm: string, id: string): Promise<void>;
  /** exportPolicy is a VM's lasting rules and secret bindings as a policy file's text. */
  exportPolicy(vm: string): Promise<PolicyExport>;
  /** importPolicy applies a policy file's text to a VM, or with dryRun says what it would change; rejects with the service's sentence. */
  importPolicy(params: Params<'firewall.import'>): Promise<PolicyImport>;
}

export interface ImportsSlice {
  readonly bases: Loadable<readonly BaseInfo[]>;
  /** importJob is the current import; only the event handler writes it. */
  readonly importJob: ImportJob | null;
  refreshBases(): Promise<void>;
  importFile(file: File): Promise<void>;
  /** dismissImport forgets the import: a running one is cancelled, a finished one's outcome goes. */
  dismissImport(): void;
}

export interface PullsSlice {
  /** platform is where the app runs, which tells the likely architecture of this computer. */
  readonly platform: ClientPlatform;
  /** catalog is the images Xray can get (base.catalog); null until shown. */
  readonly catalog: Loadable<readonly CatalogEntry[]> | null;
  /** pulls are the images being got, by base name; only the event handler writes them. */
  readonly pulls: Readonly<Record<string, PullJob>>;
  loadCatalog(): Promise<void>;
  /** pullBase gets a catalog image; when it is in, the New VM dialog opens on it. */
  pullBase(entry: CatalogEntry): Promise<void>;
  cancelPull(name: string): Promise<void>;
  /** dismissPull forgets a failed pull's reason. */
  dismissPull(name: string): void;
}

export interface EventsSlice {
  /** handleEvent applies one event; it is the only writer of job state (snapshotJobs, importJob, pulls). */
  handleEvent(event: StoreEvent): void;
}

/** XrayState is the whole store: every slice's data and actions. */
export type XrayState = NavigationSlice & VmsSlice & DetailSlice & ConsoleSlice & TimelineSlice & FirewallSlice & ImportsSlice & PullsSlice & MessagesSlice & EventsSlice;

/** XrayActions is the store without its data: what views call. */
export type XrayActions = { [K in keyof XrayState as XrayState[K] extends (...args: never[]) => unknown ? K : never]: XrayState[K] };

/** SliceContext is what a slice is built over: the client, and the whole store's set and get. */
export interface SliceContext {
  readonly client: XrayClient;
  readonly set: (partial: Partial<XrayState>) => void;
  readonly get: () => XrayState;
}

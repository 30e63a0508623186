// Runs in: anywhere (pure). What each API method resolves with, and the
// plugin and catalog entries only the contract names; contract.ts re-exports them.
import type { GuestArch, HookSource, HookType } from './enums';
import type { LearnedReview } from './learned';
import type { GuestListener, OpenConnection, PortChange } from './live';
import type {
  BaseInfo,
  ConsoleScrollback,
  FirewallLogEntry,
  FirewallPrompt,
  FirewallRule,
  GlobalSettings,
  HookRun,
  HookRunRecord,
  PortMapping,
  SecretBackendInfo,
  SecretBinding,
  SecretInfo,
  Share,
  ShareChange,
  SnapshotInfo,
  TimelineEntry,
  VmInfo,
  VmStopResult,
  VmSummary,
} from './models';
import type { PolicyExport, PolicyImport } from './policy';
import type { VmDefaults } from './vm';

/** PluginInfo is one installed plugin: its file, its commands and hooks, or why it could not load. */
export interface PluginInfo {
  readonly name: string;
  readonly file: string;
  /** commands are what `plugin.run` runs; a risky one gets an automatic snapshot of each VM before it first reaches it. */
  readonly commands: readonly { readonly name: string; readonly description: string; readonly risky: boolean }[];
  readonly hooks: readonly HookType[];
  readonly error: string | null;
}

/** CatalogEntry is one image `base.pull` can fetch by name, and whether a base of that name exists. */
export interface CatalogEntry {
  readonly name: string;
  readonly arch: GuestArch;
  readonly title: string;
  readonly url: string;
  readonly imported: boolean;
}

/** Results maps each API method to what it resolves with. */
export interface Results {
  'vm.list': VmSummary[];
  'vm.info': VmInfo;
  'vm.defaults': VmDefaults;
  'vm.create': VmSummary;
  'vm.remove': null;
  'vm.update': VmSummary;
  'vm.start': VmSummary;
  'vm.stop': VmStopResult;
  'vm.console': ConsoleScrollback;
  'vm.consoleInput': null;
  'vm.timeline': TimelineEntry[];
  'port.list': PortMapping[];
  'share.list': Share[];
  'share.add': ShareChange;
  'share.remove': ShareChange;
  'port.add': PortChange;
  'port.remove': PortChange;
  /** port.listening: the guest's listening TCP ports, or null when it cannot be asked (the VM is not ready). */
  'port.listening': GuestListener[] | null;
  'base.list': BaseInfo[];
  'base.import': BaseInfo;
  'base.remove': null;
  'base.catalog': CatalogEntry[];
  'base.pull': BaseInfo;
  'base.cancel': null;
  'snapshot.list': SnapshotInfo[];
  'snapshot.create': SnapshotInfo;
  'snapshot.revert': null;
  'snapshot.delete': null;
  'config.get': GlobalSettings;
  'config.set': GlobalSettings;
  'firewall.rules': FirewallRule[];
  'firewall.add': FirewallRule;
  'firewall.remove': null;
  'firewall.clear': null;
  'firewall.log': FirewallLogEntry[];
  'firewall.export': PolicyExport;
  'firewall.learned': LearnedReview;
  'firewall.import': PolicyImport;
  'firewall.connections': OpenConnection[];
  'prompt.list': FirewallPrompt[];
  'prompt.answer': null;
  'hooks.list': { type: HookType; script: string; source: HookSource; risky: boolean }[];
  'hooks.run': HookRun[];
  'hooks.resetInitialBoot': null;
  'hooks.runs': HookRunRecord[];
  'secret.list': { backend: SecretBackendInfo; secrets: SecretInfo[] };
  'secret.set': SecretInfo;
  'secret.remove': null;
  'secret.bindings': SecretBinding[];
  'secret.bind': SecretBinding;
  'secret.unbind': null;
  'plugin.list': PluginInfo[];
  'plugin.run': { output: string };
}

// Runs in: plain Node (core).
import type { AutoSnapshotsInfo, GlobalSettings, SnapshotInfo } from '../../shared/models';
import { NAME_MAX_LENGTH } from '../../shared/names';
import type { VmStore } from '../store/vm-config';
import { KeyedQueue } from '../supervisor/queue';

/**
 * AutoMoment is a moment Xray takes a snapshot by itself: when a VM's first
 * boot has completed, or before a step marked risky runs. `step` names the
 * snapshot ("auto-before-STEP"), `what` says in words what was about to run.
 */
export type AutoMoment = { readonly kind: 'first-boot' } | { readonly kind: 'before'; readonly step: string; readonly what: string };

export interface AutoSnapshotDeps {
  readonly vms: Pick<VmStore, 'read' | 'update'>;
  readonly settings: { read(): Promise<GlobalSettings> };
  /** list, create and remove are the service's own snapshot methods: live for a running VM, offline for a stopped one. */
  readonly list: (vm: string) => Promise<SnapshotInfo[]>;
  readonly create: (vm: string, name: string, description: string) => Promise<SnapshotInfo>;
  readonly remove: (vm: string, name: string) => Promise<void>;
}

const FIRST_BOOT_NAME = 'auto-first-boot';
const BEFORE_PREFIX = 'auto-before-';
/** SUFFIX_ROOM keeps room for "-NNN" when the plain name is taken. */
const SUFFIX_ROOM = 4;

/**
 * AutoSnapshots takes the snapshots a person would want without having to
 * think of them, when the VM's vm.toml (auto_snapshots) or else config.toml
 * says so: after the first boot, and before hooks and plugin commands marked
 * risky. They are marked `auto` in vm.toml; after each one the oldest
 * automatic snapshots beyond auto_snapshots_keep are deleted, never one a
 * person took. One VM's automatic snapshots are taken one at a time.
 */
export class AutoSnapshots {
  private readonly queue = new KeyedQueue();

  constructor(private readonly deps: AutoSnapshotDeps) {}

  /** settingsOf says whether a VM takes automatic snapshots, whether config.toml decides it, and how many it keeps. */
  async settingsOf(vm: string): Promise<AutoSnapshotsInfo> {
    const [config, settings] = await Promise.all([this.deps.vms.read(vm), this.deps.settings.read()]);
    return { enabled: config.autoSnapshots ?? settings.autoSnapshots, fromDefault: config.autoSnapshots === null, keep: settings.autoSnapshotsKeep };
  }

  /**
   * take snapshots the VM for `moment` when automatic snapshots are on for it
   * (null when they are off), then prunes the oldest automatic ones. It
   * throws when the snapshot could not be taken.
   */
  take(vm: string, moment: AutoMoment): Promise<SnapshotInfo | null> {
    return this.queue.run(vm, async () => {
      const { enabled, keep } = await this.settingsOf(vm);
      if (!enabled) return null;
      const existing = await this.deps.list(vm);
      const name = freeName(baseName(moment), new Set(existing.map((s) => s.name)));
      const description = describe(moment);
      const taken = await this.deps.create(vm, name, description);
      await this.deps.vms.update(vm, (cfg) => {
        cfg.snapshots = { ...cfg.snapshots, [name]: { description, auto: true } };
      });
      await this.prune(vm, keep);
      return { ...taken, description, auto: true };
    });
  }

  /** prune deletes the oldest automatic snapshots until `keep` are left. */
  private async prune(vm: string, keep: number): Promise<void> {
    const auto = (await this.deps.list(vm)).filter((s) => s.auto).sort((a, b) => Date.parse(a.date) - Date.parse(b.date));
    for (const old of auto.slice(0, Math.max(0, auto.length - keep))) await this.deps.remove(vm, old.name);
  }
}

/** describe says why Xray took the snapshot: the description a person reads in the timeline and the snapshot list. */
function describe(moment: AutoMoment): string {
  return moment.kind === 'first-boot'
    ? "Taken automatically when the first boot completed (its initial-boot hooks succeeded)."
    : `Taken automatically before ${moment.what}, which is marked risky.`;
}

function baseName(moment: AutoMoment): string {
  if (moment.kind === 'first-boot') return FIRST_BOOT_NAME;
  const room = NAME_MAX_LENGTH - BEFORE_PREFIX.length - SUFFIX_ROOM;
  const step = moment.step.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, room).replace(/[.-]+$/, '');
  return `${BEFORE_PREFIX}${step || 'step'}`;
}

/** freeName is `base`, or when a snapshot has that name, `base-N` with N one above the highest taken. */
function freeName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  let highest = 1;
  for (const name of taken) {
    const match = name.startsWith(`${base}-`) ? /^\d+$/.exec(name.slice(base.length + 1)) : null;
    if (match) highest = Math.max(highest, Number(match[0]));
  }
  return `${base}-${highest + 1}`;
}

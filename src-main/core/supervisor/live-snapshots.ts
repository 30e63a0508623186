// Runs in: plain Node (core).
import type { XrayEvent } from '../../shared/contract';
import type { SnapshotInfo } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import type { Handler, SnapshotMethod } from '../engine';
import { validateName } from '../names';
import { DISK_DRIVE_ID } from '../qemu';
import { cont, deleteSnapshot, listBlockNodes, loadSnapshot, querySnapshots, saveSnapshot, snapshotNodes, type InternalSnapshot, type QmpChannel } from '../qmp';
import type { VmStore } from '../store/vm-store';
import { withSnapshotProgress } from '../vms/snapshot-progress';
import type { KeyedQueue } from './queue';

export interface LiveSnapshotDeps {
  /** vms holds the snapshots' descriptions, in vm.toml. */
  readonly vms: Pick<VmStore, 'read' | 'update'>;
  readonly emit: (event: XrayEvent) => void;
  /** monitor is a running VM's QMP; it throws for a VM that is not running. */
  readonly monitor: (vm: string) => QmpChannel;
}

/**
 * LiveSnapshots takes snapshots of running VMs as QMP jobs: disk, UEFI vars,
 * RAM and device state together. Stopped VMs get offline ones instead
 * (vms/snapshots.ts); both report progress the same way.
 */
export class LiveSnapshots {
  constructor(private readonly deps: LiveSnapshotDeps) {}

  async list(vm: string): Promise<SnapshotInfo[]> {
    const qmp = this.deps.monitor(vm);
    const config = await this.deps.vms.read(vm);
    const found = await querySnapshots(qmp, DISK_DRIVE_ID);
    return found
      .slice()
      .sort((a, b) => a.date.getTime() - b.date.getTime())
      .map((s) => toSnapshotInfo(s, config.snapshots[s.name]?.description ?? null, config.snapshots[s.name]?.auto === true));
  }

  async create(vm: string, name: string, description?: string): Promise<SnapshotInfo> {
    validateName('snapshot', name);
    const qmp = this.deps.monitor(vm);
    // One query-block serves both the duplicate check and the choice of nodes.
    const blockNodes = await listBlockNodes(qmp);
    if (blockNodes.find((n) => n.device === DISK_DRIVE_ID)?.snapshots.some((s) => s.name === name)) {
      throw new XrayError('already-exists', `VM "${vm}" already has a snapshot "${name}"; choose another name or delete it first.`);
    }
    await withSnapshotProgress(this.deps.emit, { vm, name, operation: 'create', ...(description ? { description } : {}) }, () =>
      saveSnapshot(qmp, { jobId: `save-${Date.now()}`, tag: name, ...snapshotNodes(blockNodes, DISK_DRIVE_ID) }),
    );
    if (description) {
      await this.deps.vms.update(vm, (cfg) => {
        cfg.snapshots = { ...cfg.snapshots, [name]: { description } };
      });
    }
    const created = (await querySnapshots(qmp, DISK_DRIVE_ID)).find((s) => s.name === name);
    if (!created) throw new XrayError('internal', `Snapshot "${name}" of VM "${vm}" was not found after it was taken.`);
    return toSnapshotInfo(created, description ?? null, false);
  }

  async revert(vm: string, name: string): Promise<null> {
    await this.requireSnapshot(vm, name);
    const qmp = this.deps.monitor(vm);
    await withSnapshotProgress(this.deps.emit, { vm, name, operation: 'revert' }, async () => {
      const nodes = snapshotNodes(await listBlockNodes(qmp), DISK_DRIVE_ID);
      await loadSnapshot(qmp, { jobId: `load-${Date.now()}`, tag: name, ...nodes });
    });
    return null;
  }

  async remove(vm: string, name: string): Promise<null> {
    await this.requireSnapshot(vm, name);
    const qmp = this.deps.monitor(vm);
    await withSnapshotProgress(this.deps.emit, { vm, name, operation: 'delete' }, async () => {
      const nodes = snapshotNodes(await listBlockNodes(qmp), DISK_DRIVE_ID);
      await deleteSnapshot(qmp, { jobId: `delete-${Date.now()}`, tag: name, devices: nodes.devices });
    });
    await this.deps.vms.update(vm, (cfg) => {
      const { [name]: _dropped, ...rest } = cfg.snapshots;
      cfg.snapshots = rest;
    });
    return null;
  }

  /**
   * resumeFrom loads a memory snapshot into a QEMU started paused and lets it
   * run: a stopped VM resumed where the snapshot left it.
   */
  async resumeFrom(vm: string, tag: string): Promise<void> {
    const qmp = this.deps.monitor(vm);
    const nodes = await listBlockNodes(qmp);
    const snap = nodes.find((n) => n.device === DISK_DRIVE_ID)?.snapshots.find((s) => s.name === tag);
    if (!snap) throw new XrayError('not-found', `VM "${vm}" has no snapshot "${tag}"; see "xray snapshot list ${vm}".`);
    if (snap.vmStateSize === 0) throw new XrayError('invalid-argument', `Snapshot "${tag}" holds no memory, so the VM cannot resume from it; revert to it instead.`);
    await loadSnapshot(qmp, { jobId: `load-${Date.now()}`, tag, ...snapshotNodes(nodes, DISK_DRIVE_ID) });
    await cont(qmp);
  }

  private async requireSnapshot(vm: string, name: string): Promise<void> {
    validateName('snapshot', name);
    if (!(await this.list(vm)).some((s) => s.name === name)) {
      throw new XrayError('not-found', `VM "${vm}" has no snapshot "${name}"; see "xray snapshot list ${vm}".`);
    }
  }
}

function toSnapshotInfo(s: InternalSnapshot, description: string | null, auto: boolean): SnapshotInfo {
  return { name: s.name, date: s.date.toISOString(), vmStateSize: s.vmStateSize, hasMemory: s.vmStateSize > 0, description, auto };
}

/** liveSnapshotHandlers serve the snapshot methods for VMs the supervisor runs; a change waits its turn in the VM's queue. */
export function liveSnapshotHandlers(snapshots: LiveSnapshots, queue: KeyedQueue): { [M in SnapshotMethod]: Handler<M> } {
  return {
    'snapshot.list': ({ vm }) => snapshots.list(vm),
    'snapshot.create': ({ vm, name, description }) => queue.run(vm, () => snapshots.create(vm, name, description)),
    'snapshot.revert': ({ vm, name }) => queue.run(vm, () => snapshots.revert(vm, name)),
    'snapshot.delete': ({ vm, name }) => queue.run(vm, () => snapshots.remove(vm, name)),
  };
}

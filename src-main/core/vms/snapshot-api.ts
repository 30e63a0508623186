// Runs in: plain Node (core).
import type { XrayEvent } from '../../shared/contract';
import type { Engine, Handler, SnapshotMethod } from '../engine';
import { validateName } from '../names';
import { withSnapshotProgress } from './snapshot-progress';
import type { OfflineSnapshots } from './snapshots';

export interface SnapshotApiDeps {
  readonly offline: OfflineSnapshots;
  readonly emit: (event: XrayEvent) => void;
  /** engine is this process's supervisor, when it has one. */
  readonly engine: () => Engine | null;
  /** isLive tells whether the VM runs under this process's engine; it throws when another Xray process runs it. */
  readonly isLive: (vm: string) => Promise<boolean>;
}

/**
 * snapshotHandlers take, list, revert and delete snapshots: live ones (with
 * memory) through the engine while it runs the VM, offline ones with
 * qemu-img while the VM is stopped; both announce their progress the same way.
 */
export function snapshotHandlers(deps: SnapshotApiDeps): { [M in SnapshotMethod]: Handler<M> } {
  const { offline, emit } = deps;
  const live = () => deps.engine()!.live;
  return {
    'snapshot.list': async (params) => {
      // Reading works from the files even while another process runs the VM (qemu-img reads with force-share).
      if (deps.engine()?.isRunning(validateName('VM', params.vm))) return live()['snapshot.list'](params);
      return offline.list(params.vm);
    },
    'snapshot.create': async (params) => {
      if (await deps.isLive(params.vm)) return live()['snapshot.create'](params);
      const progress = { vm: params.vm, name: params.name, operation: 'create', ...(params.description ? { description: params.description } : {}) } as const;
      return withSnapshotProgress(emit, progress, () => offline.create(params.vm, params.name, params.description));
    },
    'snapshot.revert': async (params) => {
      if (await deps.isLive(params.vm)) return live()['snapshot.revert'](params);
      await withSnapshotProgress(emit, { vm: params.vm, name: params.name, operation: 'revert' }, () => offline.revert(params.vm, params.name));
      return null;
    },
    'snapshot.delete': async (params) => {
      if (await deps.isLive(params.vm)) return live()['snapshot.delete'](params);
      await withSnapshotProgress(emit, { vm: params.vm, name: params.name, operation: 'delete' }, () => offline.remove(params.vm, params.name));
      return null;
    },
  };
}

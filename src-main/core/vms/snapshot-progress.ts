// Runs in: plain Node (core).
import type { XrayEvent } from '../../shared/contract';

type SnapshotOperation = 'create' | 'revert' | 'delete';

/**
 * withSnapshotProgress announces one snapshot operation as it runs, done or
 * failed, the same for live snapshots (QMP jobs) and offline ones (qemu-img),
 * so a UI follows either the same way. A new snapshot's description goes
 * with it, so the timeline can say what the snapshot was for.
 */
export async function withSnapshotProgress<T>(
  emit: (event: XrayEvent) => void,
  target: { readonly vm: string; readonly name: string; readonly operation: SnapshotOperation; readonly description?: string },
  task: () => Promise<T>,
): Promise<T> {
  emit({ type: 'snapshot.progress', ...target, status: 'running' });
  try {
    const result = await task();
    emit({ type: 'snapshot.progress', ...target, status: 'done' });
    return result;
  } catch (err) {
    emit({ type: 'snapshot.progress', ...target, status: 'failed', error: (err as Error).message });
    throw err;
  }
}

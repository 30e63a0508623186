// Runs in: plain Node (core).
export { QmpClient } from './client';
export type { QmpChannel } from './client';
export type { QmpConnectOptions, QmpEvent, QmpEventListener, QmpExecuteOptions, QmpVersion } from './protocol';
export {
  QmpCommandError,
  QmpConnectError,
  QmpDisconnectedError,
  QmpJobError,
  QmpTimeoutError,
} from './errors';
export type { QmpCommandMessage, QmpConnectStage } from './errors';
export { LineDecoder } from './framing';
export {
  DEFAULT_JOB_TIMEOUT_MS,
  cont,
  deleteSnapshot,
  listBlockNodes,
  loadSnapshot,
  powerdown,
  queryStatus,
  querySnapshots,
  quit,
  saveSnapshot,
  snapshotNodes,
  stop,
} from './jobs';
export type {
  BlockNode,
  DeleteSnapshotOptions,
  InternalSnapshot,
  LoadSnapshotOptions,
  QmpRunStatus,
  SaveSnapshotOptions,
  SnapshotNodes,
} from './jobs';

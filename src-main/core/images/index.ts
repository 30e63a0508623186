// Runs in: plain Node (core).
export { QemuImg, qemuImgMessage } from './qemu-img';
export type { CheckResult, ImageInfo, ImageSnapshot, QemuImgOptions, RunResult, SnapshotOperation, SpawnFunction } from './qemu-img';
export { importBase, validateImportSource } from './import';
export type { ImportBaseOptions, ImportResult, ImportSource, ValidateImportOptions } from './import';
export { backingReference, createEfiVars, createOverlay, inspectDisk, migrateLegacyEfiVars } from './overlay';
export { createSnapshot, deleteSnapshot, listSnapshots, revertSnapshot, snapshotList } from './snapshots';
export type { SnapshotOptions } from './snapshots';

// Runs in: plain Node (core).
import { basename, dirname, resolve } from 'node:path';
import type { SnapshotInfo } from '../../shared/models';
import { XrayError, errorMessage } from '../../shared/errors';
import { validateName } from '../names';
import { QemuImg, type ImageSnapshot } from './qemu-img';

/**
 * Offline snapshots of a stopped VM, taken with `qemu-img snapshot`. A VM has
 * several images (the disk first, then the UEFI variable store) and each
 * operation is applied to all of them so they stay consistent. The disk is the
 * reference: listing and reverting go by the snapshots it holds; an image that
 * lacks a snapshot the disk has (a store migrated from raw after the snapshot
 * was taken) is left as it is.
 */

export interface SnapshotOptions {
  qemuImg?: QemuImg;
  /** vm names the VM in error messages; by default the name of the disk's directory. */
  vm?: string;
}

/** listSnapshots lists the disk's snapshots, oldest first. */
export async function listSnapshots(images: readonly string[], opts: SnapshotOptions = {}): Promise<SnapshotInfo[]> {
  const qemuImg = opts.qemuImg ?? new QemuImg();
  return snapshotList(await snapshotsOf(qemuImg, diskOf(images)));
}

/** snapshotList turns the snapshots `qemu-img info` lists for an image into Xray's, oldest first. */
export function snapshotList(snapshots: readonly ImageSnapshot[]): SnapshotInfo[] {
  return snapshots
    .slice()
    .sort((a, b) => a['date-sec'] - b['date-sec'] || a['date-nsec'] - b['date-nsec'])
    .map(toSnapshotInfo);
}

/**
 * createSnapshot snapshots every image under `name`. If one image fails, the
 * snapshots already made are deleted again so no image keeps a half snapshot.
 */
export async function createSnapshot(images: readonly string[], name: string, opts: SnapshotOptions = {}): Promise<SnapshotInfo> {
  validateName('snapshot', name);
  const qemuImg = opts.qemuImg ?? new QemuImg();
  for (const image of images) {
    if (findByName(await snapshotsOf(qemuImg, image), name)) {
      throw new XrayError(
        'already-exists',
        `VM "${vmName(images, opts)}" already has a snapshot named "${name}"; choose another name or delete that snapshot first.`,
      );
    }
  }
  const done: string[] = [];
  for (const image of images) {
    try {
      await qemuImg.snapshot('create', image, name);
      done.push(image);
    } catch (err) {
      const rollbackFailures = await deleteWherePresent(qemuImg, done, name);
      const left = rollbackFailures.length > 0 ? ` Removing it again from ${rollbackFailures.join(', ')} failed too.` : '';
      throw new XrayError('qemu', `Snapshot "${name}" could not be taken of ${image}: ${errorMessage(err)}${left}`, { cause: err });
    }
  }
  const created = findByName(await snapshotsOf(qemuImg, diskOf(images)), name);
  if (!created) throw new XrayError('internal', `Snapshot "${name}" was taken but the disk does not list it; run "qemu-img check" on it.`);
  return toSnapshotInfo(created);
}

/** revertSnapshot returns every image that holds `name` to that snapshot. */
export async function revertSnapshot(images: readonly string[], name: string, opts: SnapshotOptions = {}): Promise<void> {
  const qemuImg = opts.qemuImg ?? new QemuImg();
  const targets = await locate(qemuImg, images, name);
  if (!targets.has(diskOf(images))) throw notFound(images, name, opts);
  await applyToEach(targets, name, 'revert to', (image, id) => qemuImg.snapshot('apply', image, id));
}

/** deleteSnapshot removes `name` from every image that holds it. */
export async function deleteSnapshot(images: readonly string[], name: string, opts: SnapshotOptions = {}): Promise<void> {
  const qemuImg = opts.qemuImg ?? new QemuImg();
  const targets = await locate(qemuImg, images, name);
  if (targets.size === 0) throw notFound(images, name, opts);
  await applyToEach(targets, name, 'delete', (image) => qemuImg.snapshot('delete', image, name));
}

/**
 * locate maps each image holding snapshot `name` to that snapshot's id.
 * `qemu-img snapshot -a` looks snapshots up by id before name, so revert
 * passes the id: a snapshot named "2" must never be confused with the one
 * whose id is 2. Delete goes by name only.
 */
async function locate(qemuImg: QemuImg, images: readonly string[], name: string): Promise<Map<string, string>> {
  const targets = new Map<string, string>();
  for (const image of images) {
    const found = findByName(await snapshotsOf(qemuImg, image), name);
    if (found) targets.set(image, found.id);
  }
  return targets;
}

async function applyToEach(
  targets: Map<string, string>,
  name: string,
  verb: string,
  op: (image: string, id: string) => Promise<void>,
): Promise<void> {
  const done: string[] = [];
  for (const [image, id] of targets) {
    try {
      await op(image, id);
      done.push(image);
    } catch (err) {
      const already = done.length > 0 ? ` (already done for ${done.join(', ')})` : '';
      throw new XrayError('qemu', `Could not ${verb} snapshot "${name}" of ${image}${already}: ${errorMessage(err)}`, { cause: err });
    }
  }
}

async function deleteWherePresent(qemuImg: QemuImg, images: readonly string[], name: string): Promise<string[]> {
  const failures: string[] = [];
  for (const image of images) {
    try {
      if (findByName(await snapshotsOf(qemuImg, image), name)) await qemuImg.snapshot('delete', image, name);
    } catch {
      failures.push(image);
    }
  }
  return failures;
}

async function snapshotsOf(qemuImg: QemuImg, image: string): Promise<ImageSnapshot[]> {
  const info = await qemuImg.info(image, { format: 'qcow2' });
  return info.snapshots ?? [];
}

function findByName(snapshots: readonly ImageSnapshot[], name: string): ImageSnapshot | undefined {
  return snapshots.find((snapshot) => snapshot.name === name);
}

function toSnapshotInfo(snapshot: ImageSnapshot): SnapshotInfo {
  const millis = snapshot['date-sec'] * 1000 + Math.floor(snapshot['date-nsec'] / 1e6);
  return {
    name: snapshot.name,
    date: new Date(millis).toISOString(),
    // qemu-img does not report how much disk a snapshot holds on its own.
    vmStateSize: snapshot['vm-state-size'],
    hasMemory: snapshot['vm-state-size'] > 0,
    description: null,
  };
}

function diskOf(images: readonly string[]): string {
  const disk = images[0];
  if (disk === undefined) throw new XrayError('internal', 'No disk image was given for a snapshot operation.');
  return disk;
}

function vmName(images: readonly string[], opts: SnapshotOptions): string {
  return opts.vm ?? basename(dirname(resolve(diskOf(images))));
}

function notFound(images: readonly string[], name: string, opts: SnapshotOptions): XrayError {
  const vm = vmName(images, opts);
  return new XrayError('not-found', `VM "${vm}" has no snapshot named "${name}"; run "xray snapshot list ${vm}" to see its snapshots.`);
}

// Runs in: plain Node (core).
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { DiskChainEntry } from '../../shared/models';
import { XrayError, isXrayError } from '../../shared/errors';
import { partialPath, pathExists, publishNoClobber } from './files';
import { readQcow2Chain } from './qcow2-header';
import { QemuImg, type ImageInfo, type ImageSnapshot } from './qemu-img';

/**
 * createOverlay makes a VM disk as a copy-on-write overlay of a base image. It
 * writes metadata only, so it takes the same time for any base size. The
 * backing path is stored relative to the overlay's directory
 * (../../bases/NAME.qcow2), so the whole XRAY_HOME can move.
 *
 * With `templates` (a cache directory for this base), the overlay qemu-img
 * made is also kept there, and the next overlay of the same base file with
 * the same backing path is a copy of it: qemu-img writes the same bytes for
 * both, and a copy spares `xray create` a qemu-img run.
 */
export async function createOverlay(basePath: string, overlayPath: string, qemuImg: QemuImg = new QemuImg(), templates?: string): Promise<void> {
  const base = resolve(basePath);
  const overlay = resolve(overlayPath);
  const baseStat = await stat(base).catch(() => undefined);
  if (!baseStat) {
    throw new XrayError('not-found', `The base image ${base} does not exist; import it with "xray base import" first.`);
  }
  await mkdir(dirname(overlay), { recursive: true, mode: 0o700 });
  const reference = backingReference(base, overlay);
  const template = templates === undefined ? undefined : join(templates, `${templateKey(reference, baseStat)}.qcow2`);
  await writeThenPublish(overlay, 'disk', async (tmp) => {
    if (template !== undefined && (await copyTemplate(template, tmp))) return;
    await qemuImg.create(tmp, { format: 'qcow2', backing: { file: reference, format: 'qcow2' } });
    if (template !== undefined) await keepTemplate(tmp, template);
  });
}

/** templateKey names an overlay template for one base file (its device, inode, size and time) and one backing path. */
function templateKey(reference: string, info: { dev: number; ino: number; size: number; mtimeMs: number }): string {
  return `${info.dev}-${info.ino}-${info.size}-${Math.trunc(info.mtimeMs)}-${encodeURIComponent(reference)}`;
}

/**
 * copyTemplate copies a kept overlay to `dest` (a clone where the filesystem
 * can); false when none is kept or it cannot be read, and the caller makes
 * the overlay itself.
 */
async function copyTemplate(template: string, dest: string): Promise<boolean> {
  try {
    await copyFile(template, dest, constants.COPYFILE_FICLONE);
    return true;
  } catch {
    await rm(dest, { force: true }).catch(() => undefined);
    return false;
  }
}

/**
 * keepTemplate stores a just-made overlay as the template, atomically. It is
 * a cache: when it cannot be written, the VM is made all the same and the
 * next create runs qemu-img again.
 */
async function keepTemplate(overlay: string, template: string): Promise<void> {
  const partial = `${template}.${process.pid}`;
  try {
    await mkdir(dirname(template), { recursive: true, mode: 0o700 });
    await copyFile(overlay, partial, constants.COPYFILE_FICLONE);
    await rename(partial, template);
  } catch {
    await rm(partial, { force: true }).catch(() => undefined);
  }
}

/**
 * backingReference is `base` relative to the overlay's directory. A path that
 * does not start with "." or "/" gets "./" so that a first component holding a
 * colon can never be read by QEMU as a protocol prefix ("nbd:…").
 */
export function backingReference(base: string, overlay: string): string {
  const rel = relative(dirname(overlay), base);
  if (isAbsolute(rel) || rel.startsWith('.')) return rel;
  return `./${rel}`;
}

/**
 * createEfiVars makes a VM's UEFI variable store from the firmware's raw vars
 * template. It is qcow2, not raw, because QEMU refuses live snapshots while a
 * writable raw pflash is attached; the virtual size stays the template's size,
 * which pflash requires.
 */
export async function createEfiVars(template: string, dest: string, qemuImg: QemuImg = new QemuImg()): Promise<void> {
  const source = resolve(template);
  if (!(await pathExists(source))) {
    throw new XrayError('not-found', `The UEFI variables template ${source} does not exist; install the UEFI firmware or set its path in the configuration.`);
  }
  await mkdir(dirname(resolve(dest)), { recursive: true, mode: 0o700 });
  await writeThenPublish(resolve(dest), 'UEFI variable store', async (tmp) => {
    await qemuImg.convert(source, tmp, { format: 'qcow2', sourceFormat: 'raw' });
  });
}

/**
 * migrateLegacyEfiVars converts the raw efivars.fd of an older home into the
 * qcow2 store, keeping every variable. The raw file is removed only once the
 * qcow2 copy exists and has the same content; a qcow2 store left by an
 * interrupted migration is accepted when its content matches.
 */
export async function migrateLegacyEfiVars(rawPath: string, qcow2Path: string, qemuImg: QemuImg = new QemuImg()): Promise<void> {
  const raw = resolve(rawPath);
  const target = resolve(qcow2Path);
  if (await pathExists(target)) {
    if (!(await qemuImg.compare(raw, target, { formatA: 'raw', formatB: 'qcow2' }))) {
      throw new XrayError(
        'already-exists',
        `Both ${raw} and ${target} exist with different UEFI variables; remove the one the VM should not use.`,
      );
    }
  } else {
    await writeThenPublish(target, 'UEFI variable store', async (tmp) => {
      await qemuImg.convert(raw, tmp, { format: 'qcow2', sourceFormat: 'raw' });
      if (!(await qemuImg.compare(raw, tmp, { formatA: 'raw', formatB: 'qcow2' }))) {
        throw new XrayError('corrupt', `Converting the UEFI variables in ${raw} to qcow2 changed them; the raw file was kept.`);
      }
    });
  }
  await unlink(raw);
}

/**
 * inspectDisk reads a VM disk's chain (the disk and every image below it,
 * top first) and the disk's own snapshots, which `xray info` shows. It reads
 * the qcow2 headers itself, since spawning qemu-img costs more than the rest
 * of the command; whatever that reader is unsure of goes to one qemu-img run.
 */
export async function inspectDisk(disk: string, qemuImg: QemuImg = new QemuImg()): Promise<{ chain: DiskChainEntry[]; snapshots: ImageSnapshot[] }> {
  const layers = (await readQcow2Chain(disk)) ?? (await qemuImg.info(disk, { backingChain: true, format: 'qcow2' }));
  return { chain: describeLayers(disk, layers), snapshots: layers[0]?.snapshots ?? [] };
}

function describeLayers(overlayPath: string, layers: readonly ImageInfo[]): DiskChainEntry[] {
  return layers.map((layer) => ({
    filename: resolve(dirname(resolve(overlayPath)), layer.filename),
    format: layer.format,
    virtualSize: layer['virtual-size'],
    actualSize: layer['actual-size'] ?? 0,
    backingFilename: layer['backing-filename'] ?? null,
  }));
}

/**
 * writeThenPublish runs `write` on a temporary path beside `dest` (so relative
 * backing paths resolve the same) and publishes it as a private file only when
 * it succeeded and `dest` is still free.
 */
async function writeThenPublish(dest: string, what: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const taken = (): XrayError =>
    new XrayError('already-exists', `The ${what} ${dest} already exists; remove it first if it should be replaced.`);
  if (await pathExists(dest)) throw taken();
  const tmp = partialPath(dest);
  try {
    await write(tmp);
    await chmod(tmp, 0o600);
    await publishNoClobber(tmp, dest, taken);
  } catch (err) {
    await rm(tmp, { force: true });
    if (isXrayError(err)) throw err;
    throw new XrayError('resource', `Writing ${dest} failed: ${(err as Error).message}; check free space and permissions.`, { cause: err });
  }
}

// Runs in: plain Node (core).
import { chmod, mkdir, open, rm, stat, symlink } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { XrayError, isXrayError } from '../../shared/errors';
import { copyImage, throwIfAborted, type CopyOptions } from './copy';
import { partialPath, pathExists, publishNoClobber, syncFile } from './files';
import { QemuImg, type ImageInfo } from './qemu-img';

/** ImportSource is what validation learned about an image a user wants to import. */
export interface ImportSource {
  /** path is the absolute path of the source file. */
  readonly path: string;
  readonly format: string;
  readonly virtualSize: number;
  readonly actualSize: number;
  readonly fileSize: number;
  readonly backingFile: string | null;
  /** dataFile is another file the image keeps guest data in (qcow2 data-file, vmdk extents). */
  readonly dataFile: string | null;
  readonly encrypted: boolean;
  /** needsConversion is true when the import goes through `qemu-img convert`, not a copy. */
  readonly needsConversion: boolean;
}

export interface ValidateImportOptions {
  qemuImg?: QemuImg;
  convert?: boolean;
  flatten?: boolean;
}

export interface ImportBaseOptions extends ValidateImportOptions, CopyOptions {
  source: string;
  /** dest is the base image to create, bases/NAME.qcow2. */
  dest: string;
  link?: boolean;
}

export interface ImportResult {
  readonly linked: boolean;
  readonly virtualSize: number;
  readonly fileSize: number;
}

/** CONVERTIBLE_FORMATS are the formats `--convert` turns into qcow2. */
const CONVERTIBLE_FORMATS = new Set(['raw', 'vmdk', 'vdi', 'vhdx', 'vpc', 'qcow', 'qed', 'parallels', 'dmg']);

/** PROTOCOL_PREFIX matches backing references QEMU reads as a protocol (nbd:, http:, json:), not a file. */
const PROTOCOL_PREFIX = /^[A-Za-z][A-Za-z0-9+.-]*:/;

const FORMAT_NAMES: Readonly<Record<string, string>> = { vpc: 'VHD (vpc)', qcow: 'qcow (version 1)' };

/**
 * validateImportSource refuses anything that is not a standalone, unencrypted,
 * sound qcow2 image before a byte is written, and says which flag would make
 * the import possible. It reads metadata only: never a backing file.
 */
export async function validateImportSource(path: string, opts: ValidateImportOptions = {}): Promise<ImportSource> {
  const qemuImg = opts.qemuImg ?? new QemuImg();
  const source = resolve(path);
  const fileSize = await sourceFileSize(source);
  const info = await qemuImg.info(source);

  if (info.encrypted || info['format-specific']?.data?.encrypt !== undefined) {
    throw new XrayError(
      'unsupported',
      `${source} is an encrypted disk image, which Xray cannot start; decrypt it with qemu-img convert first.`,
    );
  }
  const format = info.format;
  if (format !== 'qcow2' && !CONVERTIBLE_FORMATS.has(format)) {
    throw new XrayError('unsupported', `${source} is a ${format} image, which Xray cannot import; convert it to qcow2 first.`);
  }

  const backingFile = info['full-backing-filename'] ?? info['backing-filename'] ?? null;
  if (backingFile !== null && !opts.flatten) {
    const why = `${source} references the backing file ${backingFile}; Xray refuses images with backing files because a guest could read host files through them`;
    throw new XrayError('invalid-argument', `${why}. Import a standalone copy of it (qemu-img convert makes one).`, { cli: `${why}. Pass --flatten to import a standalone copy.` });
  }
  if (backingFile !== null && PROTOCOL_PREFIX.test(backingFile)) {
    throw new XrayError(
      'unsupported',
      `${source} takes its data from ${backingFile}, which is not a local file; Xray imports only images that need no other file or network source.`,
    );
  }
  const dataFile = externalDataFile(source, info);
  if (dataFile !== null && !opts.flatten) {
    const why = `${source} keeps its data in the separate file ${dataFile}; Xray refuses images that reference other files because a guest could read host files through them`;
    throw new XrayError('invalid-argument', `${why}. Import a standalone copy of it (qemu-img convert makes one).`, { cli: `${why}. Pass --flatten to import a standalone copy.` });
  }

  // qemu-img rounds a raw file's size up to whole sectors; the file's own size is the truth there.
  const problem = await notADiskProblem(source, format, format === 'raw' ? Math.min(fileSize, info['virtual-size']) : info['virtual-size']);
  if (problem !== null) {
    throw new XrayError('invalid-argument', `${source} ${problem}, so it cannot be a bootable disk; import a disk image such as a cloud image.`);
  }

  if (format !== 'qcow2' && !opts.convert) {
    const article = /^[aeiou]/i.test(format) ? 'an' : 'a';
    const what = `${source} is ${article} ${FORMAT_NAMES[format] ?? format} disk image, not qcow2`;
    throw new XrayError('invalid-argument', `${what}; convert it to qcow2 first (xray base import --convert does).`, { cli: `${what}; pass --convert to convert it to qcow2.` });
  }

  const needsConversion = format !== 'qcow2' || backingFile !== null || dataFile !== null;
  if (format === 'qcow2') await refuseCorrupt(qemuImg, source, info, needsConversion);

  return {
    path: source,
    format,
    virtualSize: info['virtual-size'],
    actualSize: info['actual-size'] ?? fileSize,
    fileSize,
    backingFile,
    dataFile,
    encrypted: false,
    needsConversion,
  };
}

/** MIN_DISK_BYTES is the smallest disk that holds a partition table and a partition worth booting. */
const MIN_DISK_BYTES = 1024 * 1024;
const MBR_SIGNATURE_OFFSET = 510;
const GPT_SIGNATURE = Buffer.from('EFI PART');

/**
 * notADiskProblem says why an image cannot be a disk a VM boots from, or
 * null. Every image must be at least MIN_DISK_BYTES. A container format
 * (qcow2, vmdk…) declares itself a disk, but raw is any file at all — a
 * text file, random bytes — so a raw image must also begin like a disk: a
 * boot sector's 0x55AA (MBR, FAT, hybrid ISO) or a GPT header at 512 or
 * 4096 bytes (4K-sector disks).
 */
async function notADiskProblem(source: string, format: string, virtualSize: number): Promise<string | null> {
  if (virtualSize < MIN_DISK_BYTES) return `is only ${virtualSize} bytes`;
  if (format !== 'raw') return null;
  const head = Buffer.alloc(4096 + GPT_SIGNATURE.length);
  const handle = await open(source, 'r');
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const bootSector = head[MBR_SIGNATURE_OFFSET] === 0x55 && head[MBR_SIGNATURE_OFFSET + 1] === 0xaa;
  const gpt = [512, 4096].some((offset) => head.subarray(offset, offset + GPT_SIGNATURE.length).equals(GPT_SIGNATURE));
  return bootSector || gpt ? null : 'has no partition table (MBR or GPT) at its start';
}

/**
 * importBase validates `source` and then links, copies or converts it to
 * `dest`. A copy or conversion is written to a hidden temporary file beside
 * `dest`, checked again (the source may have changed since validation) and
 * published only when complete: a failed or cancelled import leaves nothing.
 */
export async function importBase(opts: ImportBaseOptions): Promise<ImportResult> {
  const qemuImg = opts.qemuImg ?? new QemuImg();
  const source = await validateImportSource(opts.source, opts);
  const dest = resolve(opts.dest);
  const taken = (): XrayError =>
    new XrayError(
      'already-exists',
      `A base image named "${basename(dest, '.qcow2')}" already exists; choose another name or remove that base first.`,
      { cli: `A base image named "${basename(dest, '.qcow2')}" already exists; choose another name with --name or remove that base first.` },
    );

  await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
  if (await pathExists(dest)) throw taken();

  if (opts.link) return linkBase(source, dest, taken);

  throwIfAborted(opts.signal);
  const tmp = partialPath(dest);
  try {
    if (source.needsConversion) await convertInto(qemuImg, source, tmp, opts);
    else await copyImage(source.path, tmp, opts);
    await chmod(tmp, 0o600);
    await syncFile(tmp);
    const result = await verifyStandaloneQcow2(qemuImg, tmp, opts.source);
    throwIfAborted(opts.signal);
    await publishNoClobber(tmp, dest, taken);
    return { linked: false, virtualSize: result['virtual-size'], fileSize: (await stat(dest)).size };
  } catch (err) {
    await rm(tmp, { force: true });
    if (isXrayError(err)) throw err;
    throw new XrayError('resource', `Importing ${source.path} failed: ${(err as Error).message}; check free space and permissions, then try again.`, {
      cause: err,
    });
  }
}

async function linkBase(source: ImportSource, dest: string, taken: () => XrayError): Promise<ImportResult> {
  if (source.needsConversion) {
    throw new XrayError(
      'invalid-argument',
      `${source.path} must be converted before Xray can use it, so it cannot be linked; import a converted copy instead.`,
      { cli: `${source.path} must be converted before Xray can use it, so it cannot be linked; drop --link to import a converted copy.` },
    );
  }
  try {
    await symlink(source.path, dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw taken();
    throw err;
  }
  return { linked: true, virtualSize: source.virtualSize, fileSize: source.fileSize };
}

async function sourceFileSize(source: string): Promise<number> {
  let info;
  try {
    info = await stat(source);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new XrayError('not-found', `The image file ${source} does not exist; check the path.`, { cause: err });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new XrayError('invalid-argument', `The image file ${source} cannot be read; check its permissions.`, { cause: err });
    }
    throw err;
  }
  if (info.isDirectory()) {
    throw new XrayError('invalid-argument', `${source} is a directory, not a disk image; pass the path of a .qcow2 file.`);
  }
  if (!info.isFile()) {
    throw new XrayError('invalid-argument', `${source} is not a regular file; pass the path of a .qcow2 file.`);
  }
  try {
    await (await open(source, 'r')).close();
  } catch (err) {
    throw new XrayError('invalid-argument', `The image file ${source} cannot be read; check its permissions.`, { cause: err });
  }
  return info.size;
}

/** externalDataFile names a file other than the image itself that holds guest data, if any. */
function externalDataFile(source: string, info: ImageInfo): string | null {
  const data = info['format-specific']?.data;
  if (data?.['data-file'] !== undefined) return data['data-file'];
  for (const extent of data?.extents ?? []) {
    const extentPath = resolve(dirname(source), extent.filename);
    if (extentPath !== source) return extentPath;
  }
  return null;
}

async function refuseCorrupt(qemuImg: QemuImg, source: string, info: ImageInfo, needsConversion: boolean): Promise<void> {
  const repair = 'repair it with "qemu-img check -r all" or use another copy.';
  if (info['format-specific']?.data?.corrupt) {
    throw new XrayError('corrupt', `${source} is marked corrupt by qemu-img; ${repair}`);
  }
  // qemu-img check opens the backing chain, which must not be read for an image that is not flattened.
  if (needsConversion) return;
  const check = await qemuImg.check(source, { format: 'qcow2' });
  const corruptions = check.corruptions ?? 0;
  if (corruptions > 0 || check['check-errors'] > 0) {
    throw new XrayError('corrupt', `${source} is a damaged qcow2 image (${corruptions} corruptions found); ${repair}`);
  }
}

async function convertInto(qemuImg: QemuImg, source: ImportSource, tmp: string, opts: ImportBaseOptions): Promise<void> {
  const total = source.virtualSize;
  const onProgress = opts.onProgress;
  await qemuImg.convert(source.path, tmp, {
    format: 'qcow2',
    sourceFormat: source.format,
    signal: opts.signal,
    onProgress: onProgress ? (percent) => onProgress(Math.round((total * percent) / 100), total) : undefined,
  });
}

/** verifyStandaloneQcow2 re-reads what was written, as a base image must be. */
async function verifyStandaloneQcow2(qemuImg: QemuImg, path: string, source: string): Promise<ImageInfo> {
  const info = await qemuImg.info(path);
  const standalone =
    info.format === 'qcow2' &&
    info['backing-filename'] === undefined &&
    info['format-specific']?.data?.['data-file'] === undefined;
  if (!standalone) {
    throw new XrayError('corrupt', `The copy of ${source} is not a standalone qcow2 image (the source may have changed while it was copied); try again.`);
  }
  return info;
}

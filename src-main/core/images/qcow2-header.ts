// Runs in: plain Node (core). Reads what `xray info` shows of a qcow2 chain
// straight from the files' headers and snapshot tables (QEMU's
// docs/interop/qcow2.txt), in the shape `qemu-img info --backing-chain` prints.
import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ImageInfo, ImageSnapshot } from './qemu-img-output';

/** Magic "QFI\xfb" (header bytes 0-3). */
const MAGIC = 0x514649fb;
/** Header extension types (qcow2.txt "Header extensions"). */
const EXT_END = 0;
const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_BITMAPS = 0x23852875;
const EXT_ENCRYPTION = 0x0537be77;
const EXT_DATA_FILE = 0x44415441;
/** Limits QEMU enforces when it opens an image; beyond them qemu-img refuses, so the reader gives up. */
const MIN_CLUSTER_BITS = 9;
const MAX_CLUSTER_BITS = 21;
const MAX_L1_ENTRIES = (32 * 1024 * 1024) / 8;
const MAX_REFTABLE_BYTES = 8 * 1024 * 1024;
const MAX_SNAPSHOTS = 65536;
const MAX_SNAPSHOT_TABLE_BYTES = 64 * 1024 * 1024;
const MAX_SNAPSHOT_EXTRA_DATA = 1024;
const MAX_BACKING_NAME = 1023;
/** QEMU keeps snapshot ids and names in char[128] and char[256]: longer ones it cuts, so the reader gives up on them. */
const MAX_SNAPSHOT_ID_BYTES = 127;
const MAX_SNAPSHOT_NAME_BYTES = 255;
/** MAX_LAYERS bounds the chain the reader follows; a deeper one is qemu-img's to judge. */
const MAX_LAYERS = 16;
/** A snapshot entry's icount when none was recorded. */
const NO_ICOUNT = 0xffffffffffffffffn;
const READ_BLOCK = 4096;

/** Unsure is thrown where the reader meets something it does not fully understand. */
class Unsure extends Error {}

function need(condition: boolean): asserts condition {
  if (!condition) throw new Unsure();
}

/**
 * readQcow2Chain describes the qcow2 image at `path` and every qcow2 image
 * below it, top first, with the fields Xray reads of `qemu-img info
 * --backing-chain --output=json -f qcow2`: filename (as qemu-img prints it),
 * format, virtual-size, actual-size, backing-filename and snapshots. It is
 * null whenever the files hold anything it does not fully understand (another
 * format, unknown or dirty/corrupt feature bits, encryption, an external data
 * file, bitmaps, a backing layer of another or unstated format, a loop, an
 * implausible offset or size, a short read, an unreadable file): qemu-img is
 * then the one to answer, and to word any error.
 */
export async function readQcow2Chain(path: string): Promise<ImageInfo[] | null> {
  const layers: ImageInfo[] = [];
  const seen = new Set<string>();
  let filename: string | null = resolve(path);
  try {
    while (filename !== null) {
      need(layers.length < MAX_LAYERS && !seen.has(resolve(filename)));
      seen.add(resolve(filename));
      const layer = await readImage(filename);
      layers.push(layer.info);
      filename = layer.backingPath;
    }
    return layers;
  } catch {
    return null;
  }
}

/**
 * readImage reads one image's header (qcow2.txt "Header"), its header
 * extensions, backing file name and snapshot table. `filename` is the name
 * qemu-img would print: the top image's absolute path, or a backing name
 * joined to the directory part of the image above it, without normalising.
 */
async function readImage(filename: string): Promise<{ info: ImageInfo; backingPath: string | null }> {
  const handle = await open(filename, 'r');
  try {
    const stats = await handle.stat();
    const file = new Window(handle, stats.size);
    const head = await file.at(0, 72);
    need(head.readUInt32BE(0) === MAGIC);
    const version = head.readUInt32BE(4);
    need(version === 2 || version === 3);
    const backingOffset = u64(head, 8);
    const backingSize = head.readUInt32BE(16);
    const clusterBits = head.readUInt32BE(20);
    need(clusterBits >= MIN_CLUSTER_BITS && clusterBits <= MAX_CLUSTER_BITS);
    const clusterSize = 2 ** clusterBits;
    const virtualSize = u64(head, 24);
    need(virtualSize % 512 === 0);
    need(head.readUInt32BE(32) === 0); // crypt_method: none
    const l1Size = head.readUInt32BE(36);
    const l1Offset = u64(head, 40);
    const refcountOffset = u64(head, 48);
    const refcountClusters = head.readUInt32BE(56);
    const nbSnapshots = head.readUInt32BE(60);
    const snapshotsOffset = u64(head, 64);

    // L1 table (8-byte entries) big enough for the virtual size; refcount table; both aligned and inside the file.
    const l2Span = clusterSize * (clusterSize / 8);
    need(l1Size <= MAX_L1_ENTRIES && l1Size >= Math.ceil(virtualSize / l2Span));
    need(l1Size === 0 || inFile(l1Offset, l1Size * 8, clusterSize, stats.size));
    need(refcountClusters > 0 && refcountClusters * clusterSize <= MAX_REFTABLE_BYTES && inFile(refcountOffset, refcountClusters * clusterSize, clusterSize, stats.size));
    need(nbSnapshots <= MAX_SNAPSHOTS && (nbSnapshots === 0 || inFile(snapshotsOffset, nbSnapshots * 40, clusterSize, stats.size)));

    let headerLength = 72;
    if (version === 3) {
      const fields = await file.at(72, 32);
      need(fields.readBigUInt64BE(0) === 0n); // incompatible_features: dirty, corrupt, data file, zstd, extended L2 and unknown bits go to qemu-img
      need(fields.readBigUInt64BE(16) === 0n); // autoclear_features: bitmaps and raw data files go to qemu-img
      need(fields.readUInt32BE(24) <= 6); // refcount_order
      headerLength = fields.readUInt32BE(28);
      need(headerLength >= 104 && headerLength % 8 === 0 && headerLength <= clusterSize);
    }

    need(backingOffset <= clusterSize);
    const extensionsEnd = backingOffset === 0 ? clusterSize : backingOffset;
    const backingFormat = await readExtensions(file, headerLength, extensionsEnd);
    let backing: string | null = null;
    if (backingOffset !== 0) {
      need(backingSize > 0 && backingSize <= Math.min(MAX_BACKING_NAME, clusterSize - backingOffset));
      backing = text(await file.at(backingOffset, backingSize));
      // A name with a protocol prefix ("nbd:", "json:") or another format is opened in ways only qemu-img knows.
      need(!/^[^/]*:/.test(backing) && backingFormat === 'qcow2');
    }
    const snapshots = await readSnapshots(file, snapshotsOffset, nbSnapshots, version === 3, clusterSize);

    const info: ImageInfo = { filename, format: 'qcow2', 'virtual-size': virtualSize, 'actual-size': stats.blocks * 512 };
    if (backing !== null) info['backing-filename'] = backing;
    if (snapshots.length > 0) info.snapshots = snapshots;
    const backingPath = backing === null || backing.startsWith('/') ? backing : filename.slice(0, filename.lastIndexOf('/') + 1) + backing;
    return { info, backingPath };
  } finally {
    await handle.close();
  }
}

/**
 * readExtensions walks the header extensions (type u32, length u32, data
 * padded to 8 bytes) from the header's end to `end`, and returns the backing
 * file format name string (0xe2792aca), if any. Encryption, external data
 * file and bitmaps extensions make it give up; unknown ones are skipped, as
 * the spec allows.
 */
async function readExtensions(file: Window, start: number, end: number): Promise<string | null> {
  let format: string | null = null;
  let offset = start;
  while (offset < end) {
    need(end - offset >= 8);
    const ext = await file.at(offset, 8);
    const type = ext.readUInt32BE(0);
    const length = ext.readUInt32BE(4);
    offset += 8;
    if (type === EXT_END) break;
    need(length <= end - offset);
    need(type !== EXT_ENCRYPTION && type !== EXT_DATA_FILE && type !== EXT_BITMAPS);
    if (type === EXT_BACKING_FORMAT) {
      need(format === null && length < 16);
      format = text(await file.at(offset, length));
    }
    offset += Math.ceil(length / 8) * 8;
  }
  return format;
}

/**
 * readSnapshots reads the snapshot table (qcow2.txt "Snapshots"): per entry,
 * L1 table offset u64 and size u32, id and name sizes u16, date seconds and
 * nanoseconds u32, vm_clock_nsec u64, vm_state_size u32, extra data size u32;
 * then extra data (vm_state_size_large u64, which replaces the 32-bit size,
 * disk_size u64, icount u64 where present), the id and the name; each entry
 * starts at a multiple of 8 bytes.
 */
async function readSnapshots(file: Window, tableOffset: number, count: number, v3: boolean, clusterSize: number): Promise<ImageSnapshot[]> {
  const snapshots: ImageSnapshot[] = [];
  let offset = tableOffset;
  for (let i = 0; i < count; i++) {
    offset = Math.ceil(offset / 8) * 8;
    const entry = await file.at(offset, 40);
    const l1Offset = u64(entry, 0);
    const l1Size = entry.readUInt32BE(8);
    const idSize = entry.readUInt16BE(12);
    const nameSize = entry.readUInt16BE(14);
    const vmClock = entry.readBigUInt64BE(24);
    const extraSize = entry.readUInt32BE(36);
    need(l1Offset % clusterSize === 0 && l1Size <= MAX_L1_ENTRIES && vmClock < 2n ** 63n);
    need(extraSize <= MAX_SNAPSHOT_EXTRA_DATA && (!v3 || extraSize >= 16));
    need(idSize <= MAX_SNAPSHOT_ID_BYTES && nameSize <= MAX_SNAPSHOT_NAME_BYTES);
    offset += 40;
    const rest = await file.at(offset, extraSize + idSize + nameSize);
    offset += rest.length;
    need(offset - tableOffset <= MAX_SNAPSHOT_TABLE_BYTES);
    const snapshot: ImageSnapshot = {
      id: text(rest.subarray(extraSize, extraSize + idSize)),
      name: text(rest.subarray(extraSize + idSize)),
      'vm-state-size': extraSize >= 8 ? u64(rest, 0) : entry.readUInt32BE(32),
      'date-sec': entry.readUInt32BE(16),
      'date-nsec': entry.readUInt32BE(20),
      'vm-clock-sec': Number(vmClock / 1_000_000_000n),
      'vm-clock-nsec': Number(vmClock % 1_000_000_000n),
    };
    if (extraSize >= 24) {
      const icount = rest.readBigUInt64BE(16);
      if (icount !== NO_ICOUNT) {
        need(icount <= BigInt(Number.MAX_SAFE_INTEGER));
        snapshot.icount = Number(icount);
      }
    }
    snapshots.push(snapshot);
  }
  return snapshots;
}

/** Window reads a file forward in blocks, so a table of small entries costs few reads and every read is bounded by the file. */
class Window {
  private buffer = Buffer.alloc(0);
  private start = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly size: number,
  ) {}

  async at(offset: number, length: number): Promise<Buffer> {
    need(offset + length <= this.size);
    if (offset < this.start || offset + length > this.start + this.buffer.length) {
      const want = Math.min(Math.max(length, READ_BLOCK), this.size - offset);
      const buffer = Buffer.alloc(want);
      const { bytesRead } = await this.handle.read(buffer, 0, want, offset);
      need(bytesRead === want);
      this.buffer = buffer;
      this.start = offset;
    }
    return this.buffer.subarray(offset - this.start, offset - this.start + length);
  }
}

/** u64 is a big-endian u64 as a number, giving up beyond what a number holds exactly. */
function u64(buffer: Buffer, offset: number): number {
  const value = buffer.readBigUInt64BE(offset);
  need(value <= BigInt(Number.MAX_SAFE_INTEGER));
  return Number(value);
}

/** inFile is true for a cluster-aligned table of `length` bytes at `offset` that lies inside the file. */
function inFile(offset: number, length: number, clusterSize: number, fileSize: number): boolean {
  return offset > 0 && offset % clusterSize === 0 && offset + length <= fileSize;
}

/**
 * text decodes a string qemu-img would print unchanged: valid UTF-8 without
 * NUL (QEMU's C strings end there) or noncharacters (its JSON writer replaces
 * those).
 */
function text(bytes: Buffer): string {
  const value = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    need(code !== 0 && !(code >= 0xfdd0 && code <= 0xfdef) && (code & 0xfffe) !== 0xfffe);
  }
  return value;
}

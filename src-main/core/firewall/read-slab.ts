// Runs in: plain Node (core).

/** The first slab of a connection: small, so idle connections cost little. */
export const SLAB_START_BYTES = 16 * 1024;
/** Slabs stop growing here; a bulk transfer then moves up to 1 MiB per read. */
export const SLAB_MAX_BYTES = 1024 * 1024;
/** A slab with less room than this left is replaced rather than offered. */
const SLAB_MIN_ROOM = 4 * 1024;

/**
 * ReadSlab supplies the read buffers of one socket (net's `onread` option),
 * so a relay can read far more than Node's fixed 64 KiB per system call.
 * Each read lands in the unused tail of the current slab, and the bytes read
 * are handed out as a view that stays valid: the slab is never reused, only
 * replaced once full, and garbage-collected when the last view is written.
 * Small reads share a slab; reads that fill their whole buffer double the
 * size of the next slab, up to SLAB_MAX_BYTES.
 */
export class ReadSlab {
  private size = SLAB_START_BYTES;
  private slab = Buffer.allocUnsafe(SLAB_START_BYTES);
  private used = 0;

  /** room is the buffer the next read may fill. */
  room(): Buffer {
    return this.slab.subarray(this.used);
  }

  /** take records that a read put `bytes` into room() and returns them. */
  take(bytes: number): Buffer {
    const start = this.used;
    const filled = start + bytes === this.slab.length;
    this.used += bytes;
    const chunk = this.slab.subarray(start, this.used);
    if (this.slab.length - this.used < SLAB_MIN_ROOM) {
      if (filled && start === 0) this.size = Math.min(this.size * 2, SLAB_MAX_BYTES);
      this.slab = Buffer.allocUnsafe(this.size);
      this.used = 0;
    }
    return chunk;
  }
}

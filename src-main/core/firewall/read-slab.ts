// Runs in: plain Node (core).

/** The first slab of a connection: small, so idle connections cost little. */
export const SLAB_START_BYTES = 4 * 1024;
/** Slabs stop growing here; a bulk transfer then moves up to 1 MiB per read. */
export const SLAB_MAX_BYTES = 1024 * 1024;

/**
 * ReadSlab supplies the read buffers of one socket (net's `onread` option),
 * so a relay can read far more than Node's fixed 64 KiB per system call
 * without allocating for every read.
 *
 * Each read lands in the unused tail of the current slab and is handed out
 * as a view; the relay reports each view written() once the socket it went
 * to has finished with it. A slab none of whose views is still unwritten is
 * reused from the start, so a connection that keeps up cycles one slab; views
 * still queued for a slow writer keep theirs intact, and the reads go on in
 * the tail or in another slab. A read that fills all the room it was offered
 * means more is waiting: the next slab is twice as big, up to SLAB_MAX_BYTES.
 * A slab with less than a quarter left is set aside, so a busy socket is
 * never offered a sliver; one set-aside slab of the current size is kept
 * for reuse once its views are written.
 */
export class ReadSlab {
  private size = SLAB_START_BYTES;
  private slab: Buffer = Buffer.allocUnsafeSlow(SLAB_START_BYTES);
  private used = 0;
  private spare: Buffer | null = null;
  /** unwritten counts, per slab, the views handed out and not yet written. */
  private readonly unwritten = new Map<ArrayBufferLike, number>();

  /** room is the buffer the next read may fill. */
  room(): Buffer {
    if (this.used > 0 && !this.unwritten.has(this.slab.buffer)) this.used = 0;
    return this.slab.subarray(this.used);
  }

  /** take records that a read put `bytes` into room() and returns them. */
  take(bytes: number): Buffer {
    const start = this.used;
    this.used += bytes;
    const chunk = this.slab.subarray(start, this.used);
    this.unwritten.set(this.slab.buffer, (this.unwritten.get(this.slab.buffer) ?? 0) + 1);
    const left = this.slab.length - this.used;
    if (left === 0) this.size = Math.min(this.size * 2, SLAB_MAX_BYTES);
    if (left < this.slab.length / 4) {
      this.slab = this.spare?.length === this.size ? this.spare : Buffer.allocUnsafeSlow(this.size);
      this.spare = null;
      this.used = 0;
    }
    return chunk;
  }

  /** written says a view from take() is no longer needed; its slab may be reused once all its views are. */
  written(chunk: Buffer): void {
    const slab = chunk.buffer;
    const left = (this.unwritten.get(slab) ?? 1) - 1;
    if (left > 0) {
      this.unwritten.set(slab, left);
      return;
    }
    this.unwritten.delete(slab);
    if (slab !== this.slab.buffer && slab.byteLength === this.size) this.spare = Buffer.from(slab);
  }
}

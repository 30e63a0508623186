import { describe, expect, it } from 'vitest';
import { ReadSlab, SLAB_MAX_BYTES, SLAB_START_BYTES } from '../../../src-main/core/firewall/read-slab';

/** fill plays the kernel: writes `bytes` bytes of `value` into the room offered and takes them. */
function read(slab: ReadSlab, bytes: number, value: number): Buffer {
  const room = slab.room();
  const n = Math.min(bytes, room.length);
  room.fill(value, 0, n);
  return slab.take(n);
}

describe('ReadSlab', () => {
  it('starts small, so an idle connection holds little', () => {
    expect(new ReadSlab().room().length).toBe(SLAB_START_BYTES);
  });

  it('packs small reads into one slab, and every chunk keeps its bytes after later reads', () => {
    const slab = new ReadSlab();
    const chunks = Array.from({ length: 50 }, (_, i) => read(slab, 100, i));
    expect(slab.room().length).toBe(SLAB_START_BYTES - 5000);
    chunks.forEach((chunk, i) => expect(chunk.equals(Buffer.alloc(100, i))).toBe(true));
    expect(new Set(chunks.map((c) => c.buffer)).size).toBe(1);
  });

  it('doubles the slab while reads fill it, up to 1 MiB, and never shrinks it', () => {
    const slab = new ReadSlab();
    const offered: number[] = [];
    for (let i = 0; i < 12; i++) {
      offered.push(slab.room().length);
      read(slab, Number.MAX_SAFE_INTEGER, i);
    }
    expect(offered.slice(0, 8)).toEqual([16, 32, 64, 128, 256, 512, 1024, 1024].map((k) => k * 1024));
    expect(Math.max(...offered)).toBe(SLAB_MAX_BYTES);
    read(slab, 10, 0);
    expect(slab.room().length).toBe(SLAB_MAX_BYTES - 10);
  });

  it('replaces a nearly full slab instead of offering a sliver, without touching chunks already taken', () => {
    const slab = new ReadSlab();
    const first = read(slab, SLAB_START_BYTES - 100, 7);
    expect(slab.room().length).toBe(SLAB_START_BYTES);
    read(slab, SLAB_START_BYTES, 9);
    expect(first.equals(Buffer.alloc(SLAB_START_BYTES - 100, 7))).toBe(true);
  });
});

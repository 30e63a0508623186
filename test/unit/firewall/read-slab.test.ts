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
    const chunks = Array.from({ length: 20 }, (_, i) => read(slab, 100, i));
    expect(slab.room().length).toBe(SLAB_START_BYTES - 2000);
    chunks.forEach((chunk, i) => expect(chunk.equals(Buffer.alloc(100, i))).toBe(true));
    expect(new Set(chunks.map((c) => c.buffer)).size).toBe(1);
  });

  it('doubles the slab while reads fill it, up to 1 MiB, and never shrinks it', () => {
    const slab = new ReadSlab();
    const offered: number[] = [];
    for (let i = 0; i < 14; i++) {
      offered.push(slab.room().length);
      read(slab, Number.MAX_SAFE_INTEGER, i);
    }
    expect(offered).toEqual(offered.map((_, i) => Math.min(SLAB_START_BYTES * 2 ** i, SLAB_MAX_BYTES)));
    expect(offered.at(-1)).toBe(SLAB_MAX_BYTES);
    read(slab, 10, 0);
    expect(slab.room().length).toBe(SLAB_MAX_BYTES - 10);
  });

  it('grows when a read fills the tail it was offered, too', () => {
    const slab = new ReadSlab();
    read(slab, SLAB_START_BYTES / 2, 1);
    expect(slab.room().length).toBe(SLAB_START_BYTES / 2);
    read(slab, SLAB_START_BYTES, 2);
    expect(slab.room().length).toBe(SLAB_START_BYTES * 2);
  });

  it('replaces a slab with less than a quarter left instead of offering a sliver, without touching chunks already taken', () => {
    const slab = new ReadSlab();
    const first = read(slab, SLAB_START_BYTES - 100, 7);
    expect(slab.room().length).toBe(SLAB_START_BYTES);
    read(slab, SLAB_START_BYTES, 9);
    expect(first.equals(Buffer.alloc(SLAB_START_BYTES - 100, 7))).toBe(true);
  });

  it('reuses a slab from the start once every view taken from it is written', () => {
    const slab = new ReadSlab();
    const a = read(slab, 100, 1);
    const b = read(slab, 100, 2);
    slab.written(a);
    expect(slab.room().byteOffset).toBe(b.byteOffset + 100);
    slab.written(b);
    const room = slab.room();
    expect(room.buffer === a.buffer).toBe(true);
    expect(room.byteOffset).toBe(a.byteOffset);
    expect(room.length).toBe(SLAB_START_BYTES);
  });

  it('never hands out bytes of a view that is still waiting to be written', () => {
    const slab = new ReadSlab();
    const waiting = read(slab, 1000, 7);
    for (let i = 0; i < 100; i++) slab.written(read(slab, 5000, 8));
    expect(waiting.equals(Buffer.alloc(1000, 7))).toBe(true);
  });

  it('takes a set-aside slab back once its views are written, instead of allocating', () => {
    const slab = new ReadSlab();
    const first = read(slab, SLAB_START_BYTES - 100, 1);
    const second = read(slab, SLAB_START_BYTES - 100, 2);
    expect(second.buffer === first.buffer).toBe(false);
    slab.written(first);
    const third = read(slab, SLAB_START_BYTES - 100, 3);
    const fourth = read(slab, 10, 4);
    expect(fourth.buffer === first.buffer).toBe(true);
    expect(second.equals(Buffer.alloc(SLAB_START_BYTES - 100, 2)) && third.equals(Buffer.alloc(SLAB_START_BYTES - 100, 3))).toBe(true);
  });
});

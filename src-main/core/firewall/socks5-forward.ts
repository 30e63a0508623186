// Runs in: plain Node (core). How a relay moves bytes: each read written on
// at once, with the reading side paused only while the writing side is behind.
import type { Socket } from 'node:net';
import type { ReadSlab } from './read-slab';

/** UPLOAD_QUEUE_BYTES is how much may wait to be written upstream before the client is paused. */
const UPLOAD_QUEUE_BYTES = 1024 * 1024;

/**
 * forwardUp passes the client's bytes and its end to the upstream. Each
 * read is written on at once, so the upstream is sending while the client
 * is still being read; the client is paused only while more than
 * UPLOAD_QUEUE_BYTES wait to be written. (A pipe() pauses and resumes the
 * client around every read, as Node reads an accepted socket 64 KiB at a
 * time and a pipe holds back at 16 KiB.)
 */
export function forwardUp(client: Socket, upstream: Socket): void {
  const resume = (): void => {
    client.resume();
  };
  client.on('data', (chunk: Buffer) => {
    upstream.write(chunk);
    if (upstream.writableLength > UPLOAD_QUEUE_BYTES) {
      client.pause();
      upstream.once('drain', resume);
    }
  });
  if (client.readableEnded) upstream.end();
  else client.once('end', () => upstream.end());
  client.resume();
}

/**
 * forwardDown writes one upstream read (`bytes` of the slab) to the client;
 * false pauses the upstream until the client drains.
 */
export function forwardDown(client: Socket, upstream: Socket, slab: ReadSlab, bytes: number): boolean {
  if (client.destroyed) return false;
  const chunk = slab.take(bytes);
  if (client.write(chunk, () => slab.written(chunk))) return true;
  client.once('drain', () => upstream.resume());
  return false;
}

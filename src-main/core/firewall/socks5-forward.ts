// Runs in: plain Node (core). How a relay moves bytes: each read written on
// at once, with the reading side paused only while the writing side is behind.
import type { Socket } from 'node:net';
import type { ClientReader } from './client-reader';
import type { ReadSlab } from './read-slab';

/** UPLOAD_QUEUE_BYTES is how much may wait to be written upstream before the client is paused. */
const UPLOAD_QUEUE_BYTES = 1024 * 1024;

/**
 * forwardUp passes the client's bytes and its end to the upstream. Each
 * read is written on at once, so the upstream is sending while the client
 * is still being read, and its part of the reader's slab is released once
 * written; the client is paused only while more than UPLOAD_QUEUE_BYTES
 * wait to be written. (A pipe() pauses and resumes the client around every
 * read, as a pipe holds back at 16 KiB.)
 */
export function forwardUp(reader: ClientReader, upstream: Socket): void {
  const client = reader.socket;
  const resume = (): void => {
    reader.resume();
  };
  reader.read((chunk) => {
    upstream.write(chunk, () => reader.release(chunk));
    if (upstream.writableLength > UPLOAD_QUEUE_BYTES) {
      reader.pause();
      upstream.once('drain', resume);
    }
  });
  if (client.readableEnded) upstream.end();
  else client.once('end', () => upstream.end());
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

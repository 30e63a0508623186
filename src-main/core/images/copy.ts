// Runs in: plain Node (core). Copying an image file for an import: cloned
// where the file system can, else streamed with holes kept.
import { constants, copyFile, open, rm, stat } from 'node:fs/promises';
import { XrayError } from '../../shared/errors';

/** CopyOptions are an import's progress callback and cancel signal. */
export interface CopyOptions {
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

const CHUNK_SIZE = 4 * 1024 * 1024;
const ZERO_CHUNK = Buffer.alloc(CHUNK_SIZE);
/** PROGRESS_STEPS bounds how many progress reports one copy makes. */
const PROGRESS_STEPS = 200;

/**
 * copyImage copies `src` to the new file `dst`: as a copy-on-write clone where
 * the file system can (APFS, btrfs, XFS), else chunk by chunk, each write
 * awaited before the next read, leaving holes where the source is all zeros.
 */
export async function copyImage(src: string, dst: string, opts: CopyOptions): Promise<void> {
  try {
    await copyFile(src, dst, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
    const size = (await stat(dst)).size;
    opts.onProgress?.(size, size);
    return;
  } catch {
    // No clone on this file system: fall through to a streamed copy.
    await rm(dst, { force: true });
  }
  const input = await open(src, 'r');
  try {
    const output = await open(dst, 'wx', 0o600);
    try {
      const total = (await input.stat()).size;
      const step = Math.max(CHUNK_SIZE, Math.ceil(total / PROGRESS_STEPS));
      let position = 0;
      let reported = 0;
      const buffer = Buffer.alloc(CHUNK_SIZE);
      for (;;) {
        throwIfAborted(opts.signal);
        const { bytesRead } = await input.read(buffer, 0, CHUNK_SIZE, position);
        if (bytesRead === 0) break;
        const chunk = buffer.subarray(0, bytesRead);
        if (!chunk.equals(ZERO_CHUNK.subarray(0, bytesRead))) await output.write(chunk, 0, bytesRead, position);
        position += bytesRead;
        if (opts.onProgress && (position - reported >= step || position === total)) {
          reported = position;
          opts.onProgress(position, Math.max(total, position));
        }
      }
      await output.truncate(position);
      if (opts.onProgress && reported !== position) opts.onProgress(position, position);
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}

/** throwIfAborted ends an import the caller cancelled, in its words. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new XrayError('cancelled', 'The import was cancelled; nothing was written.');
}

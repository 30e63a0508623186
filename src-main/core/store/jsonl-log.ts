// Runs in: plain Node (core).
import { type FileHandle, open, rename } from 'node:fs/promises';

export interface JsonLinesLogOptions {
  /** capacity is how many entries stay in memory; older ones drop off. */
  readonly capacity?: number;
  /** file, when given, receives every entry as one JSON line. */
  readonly file?: string;
  /** maxFileBytes is when the file rotates to `file.1` (one old file is kept). */
  readonly maxFileBytes?: number;
  /** writeDelayMs is how long entries gather before they are written together. */
  readonly writeDelayMs?: number;
  /** keepAlive keeps the process up until gathered entries are written (a CLI that exits right after). */
  readonly keepAlive?: boolean;
}

/**
 * JsonLinesLog is a bounded record of recent entries: a fixed-size ring in
 * memory for readers in this process, and optionally a JSON-lines file that
 * rotates at a size cap so a chatty guest cannot fill the disk (a VM's
 * firewall.log and journal.jsonl).
 * File writes never block the caller and stay off a connection's path: the
 * file is kept open, and entries gather for a moment and are written together
 * (readers of a running VM get the ring; flush() or close() before reading
 * the file).
 */
export class JsonLinesLog<T> {
  private readonly ring: (T | undefined)[];
  private next = 0;
  private count = 0;
  private pending: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private handle: FileHandle | null = null;
  private fileBytes = 0;
  private readonly capacity: number;
  private readonly file: string | null;
  private readonly maxFileBytes: number;
  private readonly writeDelayMs: number;
  private readonly keepAlive: boolean;

  constructor(options: JsonLinesLogOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? 1000);
    this.ring = new Array<T | undefined>(this.capacity);
    this.file = options.file ?? null;
    this.maxFileBytes = options.maxFileBytes ?? 5 * 1024 * 1024;
    this.writeDelayMs = options.writeDelayMs ?? 200;
    this.keepAlive = options.keepAlive ?? false;
  }

  append(entry: T): void {
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
    if (!this.file) return;
    this.pending.push(entry);
    if (this.timer || this.writing) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.writing = this.drain();
    }, this.writeDelayMs);
    if (!this.keepAlive) this.timer.unref();
  }

  /** entries returns the newest `limit` entries, oldest first. */
  entries(limit: number = this.capacity): T[] {
    const n = Math.min(limit, this.count);
    const out: T[] = [];
    for (let i = n; i > 0; i--) {
      const entry = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (entry) out.push(entry);
    }
    return out;
  }

  /** flush resolves once every appended entry has reached the file. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.writing ??= this.drain();
    }
    while (this.writing) await this.writing;
  }

  /** close flushes and lets go of the file; a later append opens it again. */
  async close(): Promise<void> {
    await this.flush();
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => undefined);
  }

  private async drain(): Promise<void> {
    const file = this.file as string;
    try {
      while (this.pending.length > 0) {
        const chunk = this.pending.map((entry) => `${JSON.stringify(entry)}\n`).join('');
        this.pending = [];
        const bytes = Buffer.byteLength(chunk);
        if (!this.handle) {
          this.handle = await open(file, 'a', 0o600);
          this.fileBytes = (await this.handle.stat()).size;
        }
        if (this.fileBytes > 0 && this.fileBytes + bytes > this.maxFileBytes) {
          await this.handle.close();
          this.handle = null;
          await rename(file, `${file}.1`).catch(() => undefined);
          this.handle = await open(file, 'a', 0o600);
          this.fileBytes = 0;
        }
        await this.handle.write(chunk);
        this.fileBytes += bytes;
      }
    } catch {
      // A log file that cannot be written must not take its writer down (the
      // firewall, the supervisor); the in-memory ring still has every entry.
      // The next write reopens it.
      this.pending = [];
      await this.handle?.close().catch(() => undefined);
      this.handle = null;
    } finally {
      this.writing = null;
    }
  }
}

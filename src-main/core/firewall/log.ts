// Runs in: plain Node (core).
import { appendFile, rename, stat } from 'node:fs/promises';
import type { FirewallLogEntry } from '../api/models';

export interface FirewallLogOptions {
  /** capacity is how many entries stay in memory; older ones drop off. */
  readonly capacity?: number;
  /** file, when given, receives every entry as one JSON line. */
  readonly file?: string;
  /** maxFileBytes is when the file rotates to `file.1` (one old file is kept). */
  readonly maxFileBytes?: number;
}

/**
 * FirewallLog is one VM's recent firewall activity: a fixed-size ring in
 * memory for the UI and `xray firewall log`, and optionally a JSON-lines file
 * that rotates at a size cap so a chatty guest cannot fill the disk.
 * File writes are batched and never block the caller.
 */
export class FirewallLog {
  private readonly ring: (FirewallLogEntry | undefined)[];
  private next = 0;
  private count = 0;
  private pending: string[] = [];
  private writing: Promise<void> | null = null;
  private fileBytes: number | null = null;
  private readonly capacity: number;
  private readonly file: string | null;
  private readonly maxFileBytes: number;

  constructor(options: FirewallLogOptions = {}) {
    this.capacity = Math.max(1, options.capacity ?? 1000);
    this.ring = new Array<FirewallLogEntry | undefined>(this.capacity);
    this.file = options.file ?? null;
    this.maxFileBytes = options.maxFileBytes ?? 5 * 1024 * 1024;
  }

  append(entry: FirewallLogEntry): void {
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
    if (this.file) {
      this.pending.push(`${JSON.stringify(entry)}\n`);
      if (!this.writing) this.writing = this.drain();
    }
  }

  /** entries returns the newest `limit` entries, oldest first. */
  entries(limit: number = this.capacity): FirewallLogEntry[] {
    const n = Math.min(limit, this.count);
    const out: FirewallLogEntry[] = [];
    for (let i = n; i > 0; i--) {
      const entry = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (entry) out.push(entry);
    }
    return out;
  }

  /** flush resolves once every appended entry has reached the file. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    const file = this.file as string;
    try {
      if (this.fileBytes === null) this.fileBytes = await stat(file).then((s) => s.size, () => 0);
      while (this.pending.length > 0) {
        const chunk = this.pending.join('');
        this.pending = [];
        if (this.fileBytes > 0 && this.fileBytes + Buffer.byteLength(chunk) > this.maxFileBytes) {
          await rename(file, `${file}.1`).catch(() => undefined);
          this.fileBytes = 0;
        }
        await appendFile(file, chunk, { mode: 0o600 });
        this.fileBytes += Buffer.byteLength(chunk);
      }
    } catch {
      // A log file that cannot be written must not take the firewall down;
      // the in-memory ring still has every entry.
      this.pending = [];
    } finally {
      this.writing = null;
    }
  }
}

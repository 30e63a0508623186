// Runs in: plain Node (core).
import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { LEARN_LIMITS, type LearnedDestination, type LearnedRecord, type LearnedRequest } from '../../shared/learned';
import { XrayError } from '../../shared/errors';
import type { Destination } from '../../shared/models';
import { writeFileAtomic } from '../store/toml-file';

/** FLUSH_DELAY_MS gathers a burst of connections into one write of the record. */
const FLUSH_DELAY_MS = 500;

/** ForwardedRequest is a request the interceptor forwarded: its host and port, method and path (placeholders masked, no query). */
export interface ForwardedRequest {
  readonly host: string;
  readonly port: number;
  readonly method: string;
  readonly path: string;
}

export interface LearnRecorderOptions {
  /** warn reports a record that could not be written (the last one written stays). */
  readonly warn: (message: string) => void;
  readonly now?: () => number;
}

interface Tally {
  readonly host: string;
  readonly named: boolean;
  readonly port: number;
  connections: number;
  readonly firstAt: string;
  lastAt: string;
  readonly requests: Map<string, { method: string; path: string; count: number }>;
}

/**
 * LearnRecorder keeps what a VM reaches during one learn run
 * (`xray start VM --learn`): each destination allowed, with a count, and
 * the methods and paths of requests forwarded on intercepted connections.
 * It lives in memory and is written to vms/NAME/learned.json half a second
 * after a change and when the run ends; a new run starts a new record. It
 * is bounded (LEARN_LIMITS): what no longer fits is counted as dropped.
 */
export class LearnRecorder {
  private readonly tallies = new Map<string, Tally>();
  private dropped = 0;
  private updatedAt: string;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly vm: string,
    private readonly file: string,
    private readonly startedAt: string,
    private readonly options: LearnRecorderOptions,
  ) {
    this.updatedAt = startedAt;
  }

  /** begin starts a run: the record is empty, and written so a review knows the run began. */
  static async begin(vm: string, file: string, options: LearnRecorderOptions): Promise<LearnRecorder> {
    const recorder = new LearnRecorder(vm, file, new Date((options.now ?? Date.now)()).toISOString(), options);
    await writeFileAtomic(file, `${JSON.stringify(recorder.record())}\n`);
    return recorder;
  }

  /** connection records one allowed connection to `destination`, by its name or else its address. */
  connection(destination: Destination): void {
    const host = destination.name ?? destination.ip;
    if (host === null) return;
    const tally = this.tally(host, destination.name !== null, destination.port);
    if (!tally) return;
    tally.connections += 1;
    this.changed();
  }

  /** request records one forwarded request; a path too long for a rule is counted as dropped. */
  request(request: ForwardedRequest): void {
    const tally = this.tally(request.host, true, request.port);
    if (!tally) return;
    const key = `${request.method} ${request.path}`;
    const seen = tally.requests.get(key);
    if (seen) seen.count += 1;
    else if (tally.requests.size >= LEARN_LIMITS.requestsPerDestination || request.path.length > LEARN_LIMITS.pathLength) this.dropped += 1;
    else tally.requests.set(key, { method: request.method, path: request.path, count: 1 });
    this.changed();
  }

  /** record is the run so far. */
  record(): LearnedRecord {
    const destinations: LearnedDestination[] = [...this.tallies.values()].map((t) => ({
      host: t.host,
      named: t.named,
      port: t.port,
      connections: t.connections,
      firstAt: t.firstAt,
      lastAt: t.lastAt,
      requests: [...t.requests.values()].map((r): LearnedRequest => ({ ...r })),
    }));
    return { vm: this.vm, startedAt: this.startedAt, updatedAt: this.updatedAt, dropped: this.dropped, destinations };
  }

  /** close ends the run: the record is written one last time. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.write();
  }

  private tally(host: string, named: boolean, port: number): Tally | null {
    const key = `${host} ${port}`;
    const at = new Date((this.options.now ?? Date.now)()).toISOString();
    let tally = this.tallies.get(key);
    if (!tally) {
      if (this.tallies.size >= LEARN_LIMITS.destinations) {
        this.dropped += 1;
        this.changed();
        return null;
      }
      tally = { host, named, port, connections: 0, firstAt: at, lastAt: at, requests: new Map() };
      this.tallies.set(key, tally);
    }
    tally.lastAt = at;
    return tally;
  }

  private changed(): void {
    this.updatedAt = new Date((this.options.now ?? Date.now)()).toISOString();
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.write();
    }, FLUSH_DELAY_MS);
    this.timer.unref();
  }

  /** write saves the record, one write after another; a failure is reported and leaves the last record on disk. */
  private write(): Promise<void> {
    this.writing = this.writing.then(() =>
      writeFileAtomic(this.file, `${JSON.stringify(this.record())}\n`).catch((err: Error) => {
        this.options.warn(`VM "${this.vm}": what learn mode saw could not be saved to ${this.file} (${err.message}).`);
      }),
    );
    return this.writing;
  }
}

/** buildLearnedSchema makes the schema of a learn record; built when one is first read, not by every command's start-up. */
function buildLearnedSchema() {
  return z.object({
    vm: z.string(),
    startedAt: z.string(),
    updatedAt: z.string(),
    dropped: z.number(),
    destinations: z.array(
      z.object({
        host: z.string(),
        named: z.boolean(),
        port: z.number().int(),
        connections: z.number(),
        firstAt: z.string(),
        lastAt: z.string(),
        requests: z.array(z.object({ method: z.string(), path: z.string(), count: z.number() })),
      }),
    ),
  });
}

let learnedSchema: ReturnType<typeof buildLearnedSchema> | undefined;

/** readLearned reads a VM's last learn record; null when it never learned. A file that is not a record is a `corrupt` error. */
export async function readLearned(file: string): Promise<LearnedRecord | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new XrayError('corrupt', `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  learnedSchema ??= buildLearnedSchema();
  const record = learnedSchema.safeParse(parsed);
  if (!record.success) throw new XrayError('corrupt', `${file} is not a record of learn mode; remove it, or start the VM with --learn again to write a new one.`);
  return record.data;
}

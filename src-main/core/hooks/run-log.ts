// Runs in: plain Node (core).
import { appendFile } from 'node:fs/promises';
import type { HookRunRecord } from '../../shared/models';
import type { HomePaths } from '../paths';
import { JsonLinesLog } from '../store/jsonl-log';
import { tailOf } from '../vms/logs';

/**
 * run-log keeps what hooks leave behind: each VM's human-readable hook log
 * and its record of finished runs (hook-runs.jsonl), both written off the
 * hooks' path so a slow disk never holds a hook up.
 */

/** RUN_LOG_BYTES is when hook-runs.jsonl rotates (one old file is kept). */
const RUN_LOG_BYTES = 2 * 1024 * 1024;

/** HookRunLog writes hook log lines and run records for every VM, and reads the records back. */
export class HookRunLog {
  private logQueue: Promise<void> = Promise.resolve();
  private readonly runLogs = new Map<string, JsonLinesLog<HookRunRecord>>();

  constructor(private readonly paths: HomePaths) {}

  /** appendLine writes a line to a hook log in order without making hooks wait for the disk. */
  appendLine(file: string, line: string): void {
    this.logQueue = this.logQueue.then(
      () => appendFile(file, `${line}\n`, { mode: 0o600 }).catch(() => undefined),
    );
  }

  /** written resolves once every line appended so far is on disk (or failed to be). */
  written(): Promise<void> {
    return this.logQueue;
  }

  /** record adds a finished run to the VM's hook-runs.jsonl. */
  record(vm: string, record: HookRunRecord): void {
    this.runsOf(vm).append(record);
  }

  /** runs returns a VM's newest finished hook runs, oldest first. */
  async runs(vm: string, limit: number): Promise<HookRunRecord[]> {
    await this.runLogs.get(vm)?.flush();
    const file = this.paths.vm(vm).hookRuns;
    const lines = [...(await tailOf(`${file}.1`, limit)), ...(await tailOf(file, limit))];
    return lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as HookRunRecord];
      } catch {
        return [];
      }
    }).slice(-limit);
  }

  /** runsOf is the record of a VM's finished runs, gathered and written off the hooks' path. */
  private runsOf(vm: string): JsonLinesLog<HookRunRecord> {
    let log = this.runLogs.get(vm);
    if (!log) {
      log = new JsonLinesLog<HookRunRecord>({ capacity: 1, file: this.paths.vm(vm).hookRuns, maxFileBytes: RUN_LOG_BYTES, keepAlive: true });
      this.runLogs.set(vm, log);
    }
    return log;
  }
}

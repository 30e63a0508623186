// Runs in: plain Node (core).
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { childProcess } from '../builtins';

/**
 * host-script runs one hook executable on the host in its own process group,
 * so a timeout kills the script and everything it started (an ssh it spawned,
 * a sleep), not just the top process.
 */

export interface HostScriptResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
}

export interface HostScriptOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  readonly onOutput: (stream: 'stdout' | 'stderr', text: string) => void;
  /** killGraceMs is how long SIGTERM gets before SIGKILL. */
  readonly killGraceMs?: number;
}

const DEFAULT_KILL_GRACE_MS = 2_000;
/** OUTPUT_DRAIN_MS is how long output may trail the script's exit (a background child holding the pipe). */
const OUTPUT_DRAIN_MS = 500;

export function runHostScript(file: string, opts: HostScriptOptions): Promise<HostScriptResult> {
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(file, [], { cwd: dirname(file), env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    }, opts.timeoutMs);
    for (const stream of ['stdout', 'stderr'] as const) {
      const decoder = new StringDecoder('utf8');
      child[stream].on('data', (chunk: Buffer) => {
        const text = decoder.write(chunk);
        if (text !== '') opts.onOutput(stream, text);
      });
      child[stream].on('end', () => {
        const rest = decoder.end();
        if (rest !== '') opts.onOutput(stream, rest);
      });
    }
    child.once('error', (err) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) killGroup('SIGKILL');
      const finish = (): void => {
        clearTimeout(killTimer);
        resolve({ code, signal, timedOut });
      };
      if (child.stdout.readableEnded && child.stderr.readableEnded) return finish();
      const drain = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, OUTPUT_DRAIN_MS);
      child.once('close', () => {
        clearTimeout(drain);
        finish();
      });
    });
  });
}

/**
 * LineSplitter turns output chunks into whole lines, so events and the hook
 * log never show half a line; `flush` hands over a last unterminated line.
 */
export class LineSplitter {
  private pending = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(text: string): void {
    const parts = (this.pending + text).split('\n');
    this.pending = parts.pop() ?? '';
    for (const line of parts) this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  flush(): void {
    if (this.pending !== '') this.onLine(this.pending);
    this.pending = '';
  }
}

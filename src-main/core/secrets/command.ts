// Runs in: plain Node (core).
import { childProcess } from '../builtins';

export interface CommandResult {
  /** code is the exit status; null when the command was killed (by the timeout or a signal). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface CommandOptions {
  /** stdin is written to the command and then closed; secrets travel here, never in arguments. */
  readonly stdin?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
}

/** CommandRunner runs a helper program; the stores take one so tests can watch what is run. */
export type CommandRunner = (command: string, args: readonly string[], options: CommandOptions) => Promise<CommandResult>;

/**
 * runCommand runs `command` with `args`, feeds it `stdin`, and collects its
 * output. It never rejects for an exit status or a timeout (the result says
 * so; a timed-out child is killed); only a command that cannot start (ENOENT)
 * rejects, with the spawn error.
 */
export const runCommand: CommandRunner = (command, args, options) =>
  new Promise((resolve, reject) => {
    const child = childProcess().spawn(command, [...args], { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
    // A child that exits without reading its input closes the pipe; that is its answer, not our error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
  });

/**
 * redact removes every copy of `values` from a helper's output before it goes
 * into an error a person reads: a helper that echoes its input must not put a
 * secret into a message, a log or a crash report.
 */
export function redact(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of values) if (value !== '') out = out.split(value).join('[secret]');
  return out;
}

/** firstLine is a helper's complaint as one line, for a sentence. */
export function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}

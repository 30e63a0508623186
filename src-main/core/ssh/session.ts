// Runs in: plain Node (core).
import { StringDecoder } from 'node:string_decoder';
import type { Client as SshClient, ClientChannel, SFTPWrapper } from 'ssh2';
import { XrayError, errorMessage } from '../../shared/errors';

/**
 * session wraps one authenticated ssh2 connection to a guest (wait.ts opens
 * it): commands, scripts on stdin and file copies, each with a timeout.
 */

/** ExecOptions streams a command's output, feeds its stdin and bounds its run. */
export interface ExecOptions {
  readonly onStdout?: (text: string) => void;
  readonly onStderr?: (text: string) => void;
  readonly timeoutMs?: number;
  readonly stdin?: string | Buffer;
}

/** ExecResult is how a command ended: its exit code, or the signal that killed it. */
export interface ExecResult {
  readonly code: number | null;
  readonly signal: string | null;
}

/** RunScriptOptions are ExecOptions plus the shell that reads the script. */
export interface RunScriptOptions extends ExecOptions {
  /** shell reads the script on stdin; `sh` unless the script needs bash. */
  readonly shell?: 'sh' | 'bash';
}

const DEFAULT_EXEC_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_COPY_TIMEOUT_MS = 5 * 60_000;

/** SshSession is one logged-in connection; every operation has a timeout. */
export class SshSession {
  private closed = false;

  constructor(
    private readonly client: SshClient,
    readonly vm: string,
  ) {
    client.on('close', () => {
      this.closed = true;
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /**
   * exec runs `command` in the guest, streaming its output, and resolves with
   * its exit code (or the signal that killed it, as "SIGTERM"). A command
   * still running at `timeoutMs` is sent SIGKILL (where the guest's sshd
   * honours signal requests), its channel is closed, and a `timeout` error
   * is thrown at once.
   */
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new XrayError('ssh', `The SSH connection to VM "${this.vm}" is closed; wait for the VM to be running and try again.`));
        return;
      }
      this.client.exec(command, (err, channel) => {
        if (err) {
          reject(new XrayError('ssh', `VM "${this.vm}" refused to run a command over SSH (${err.message}); check that the VM is running.`, { cause: err }));
          return;
        }
        let code: number | null = null;
        let signal: string | null = null;
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          channel.signal('KILL');
          channel.close();
          reject(new XrayError('timeout', `The command "${shorten(command)}" in VM "${this.vm}" did not finish within ${formatMs(timeoutMs)} and was stopped.`));
        }, timeoutMs);
        pipeText(channel, opts.onStdout);
        pipeText(channel.stderr, opts.onStderr);
        channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
          code = typeof exitCode === 'number' ? exitCode : null;
          signal = exitSignal ?? null;
        });
        channel.on('close', () => {
          clearTimeout(timer);
          if (!timedOut) resolve({ code, signal });
        });
        channel.end(opts.stdin);
      });
    });
  }

  /**
   * runScript pipes a multi-line script to `sh -s` (or `bash -s`) on stdin, so
   * nothing is written to a temporary file in the guest and quoting in the
   * script needs no escaping.
   */
  runScript(text: string, opts: RunScriptOptions = {}): Promise<ExecResult> {
    const script = text.endsWith('\n') ? text : `${text}\n`;
    return this.exec(`${opts.shell ?? 'sh'} -s`, { ...opts, stdin: script });
  }

  /** copyFile uploads a host file to `remote` over SFTP, with `mode` (default 0644). */
  async copyFile(local: string, remote: string, mode = 0o644, timeoutMs = DEFAULT_COPY_TIMEOUT_MS): Promise<void> {
    const sftp = await withTimeout(
      new Promise<SFTPWrapper>((resolve, reject) => {
        this.client.sftp((err, wrapper) => (err ? reject(err) : resolve(wrapper)));
      }),
      timeoutMs,
      () => new XrayError('timeout', `VM "${this.vm}" did not open an SFTP session within ${formatMs(timeoutMs)}.`),
    ).catch((err: unknown) => {
      if (err instanceof XrayError) throw err;
      throw new XrayError('ssh', `VM "${this.vm}" refused SFTP (${errorMessage(err)}); check that its sshd has the sftp subsystem.`, { cause: err });
    });
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          sftp.fastPut(local, remote, { mode }, (err) => (err ? reject(err) : resolve()));
        }),
        timeoutMs,
        () => new XrayError('timeout', `Copying ${local} to ${remote} in VM "${this.vm}" did not finish within ${formatMs(timeoutMs)}.`),
      );
    } catch (err) {
      if (err instanceof XrayError) throw err;
      throw new XrayError('ssh', `Copying ${local} to ${remote} in VM "${this.vm}" failed (${errorMessage(err)}); check both paths.`, { cause: err });
    } finally {
      sftp.end();
    }
  }

  close(): void {
    this.closed = true;
    this.client.end();
  }
}


function pipeText(stream: NodeJS.ReadableStream | ClientChannel['stderr'], sink: ((text: string) => void) | undefined): void {
  const decoder = new StringDecoder('utf8');
  stream.on('data', (chunk: Buffer) => {
    const text = decoder.write(chunk);
    if (text !== '' && sink) sink(text);
  });
  stream.on('end', () => {
    const rest = decoder.end();
    if (rest !== '' && sink) sink(rest);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function shorten(command: string): string {
  const line = command.split('\n')[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

// Runs in: plain Node (core).
import { StringDecoder } from 'node:string_decoder';
import type { Client as SshClient, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import { XrayError, errorMessage } from '../../shared/errors';
import { checkHostKey, pinnedKeyTypes } from './known-hosts';
import { ssh2 } from './library';

/**
 * session wraps one authenticated ssh2 connection to a guest. waitForSsh keeps
 * trying real handshakes (not port probes) because QEMU's port forward accepts
 * TCP long before the guest's sshd runs; a fast retry is what lets hooks start
 * within a second of sshd coming up.
 */

export interface WaitForSshOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly privateKey: Buffer | string;
  /** knownHosts is the file that pins the guest's host key. */
  readonly knownHosts: string;
  /** vm names the VM in error sentences. */
  readonly vm: string;
  readonly timeoutMs: number;
  /** retryMs is the pause between attempts that fail at once (refused, reset). */
  readonly retryMs?: number;
  /** attemptTimeoutMs bounds one handshake; slower attempts overlap with new ones. */
  readonly attemptTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** onRefused is told each time the guest's sshd refuses the key (the wait goes on). */
  readonly onRefused?: () => void;
}

export interface ExecOptions {
  readonly onStdout?: (text: string) => void;
  readonly onStderr?: (text: string) => void;
  readonly timeoutMs?: number;
  readonly stdin?: string | Buffer;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal: string | null;
}

export interface RunScriptOptions extends ExecOptions {
  /** shell reads the script on stdin; `sh` unless the script needs bash. */
  readonly shell?: 'sh' | 'bash';
}

const DEFAULT_RETRY_MS = 100;
const DEFAULT_ATTEMPT_TIMEOUT_MS = 5_000;
const MAX_ATTEMPTS_IN_FLIGHT = 3;
/** STALL_MS is how long an attempt may hang before another one starts beside it. */
const STALL_MS = 1_000;
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

/**
 * waitForSsh resolves with a logged-in session once the guest's sshd completes
 * a handshake, verifies against the pinned host key and accepts the key. Quick
 * failures are retried every `retryMs`; a handshake that hangs for a second
 * (the guest's network still coming up behind QEMU's forward) gets another
 * attempt beside it rather than holding everything up. A changed host key fails at once; anything else is retried until
 * `timeoutMs`, then reported with the last reason seen.
 */
export function waitForSsh(opts: WaitForSshOptions): Promise<SshSession> {
  const retryMs = opts.retryMs ?? DEFAULT_RETRY_MS;
  const deadline = Date.now() + opts.timeoutMs;
  return new Promise((resolve, reject) => {
    const live = new Set<SshClient>();
    let newestStart = 0;
    let settled = false;
    let lastError: unknown = null;
    let retryTimer: NodeJS.Timeout | null = null;

    const finish = (outcome: { session: SshSession } | { error: unknown }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(overall);
      if (retryTimer) clearTimeout(retryTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      // Destroyed, not ended: an attempt still waiting for the guest's banner
      // would otherwise keep its half-closed socket (and the process) alive.
      for (const client of live) client.destroy();
      live.clear();
      if ('session' in outcome) resolve(outcome.session);
      else reject(outcome.error);
    };
    const onAbort = (): void => finish({ error: new XrayError('cancelled', `Waiting for SSH on VM "${opts.vm}" was cancelled.`) });
    const overall = setTimeout(() => finish({ error: waitFailed(opts, lastError) }), opts.timeoutMs);

    const schedule = (): void => {
      if (settled || retryTimer) return;
      retryTimer = setTimeout(() => {
        retryTimer = null;
        launch();
      }, retryMs);
    };

    const launch = (): void => {
      if (settled) return;
      const stalled = Date.now() - newestStart >= STALL_MS;
      if (live.size === 0 || (live.size < MAX_ATTEMPTS_IN_FLIGHT && stalled)) {
        newestStart = Date.now();
        const remaining = deadline - Date.now();
        if (remaining <= 0) return;
        const attemptTimeout = Math.min(opts.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS, remaining);
        void attempt(opts, attemptTimeout, (client) => live.add(client)).then((outcome) => {
          live.delete(outcome.client);
          if (outcome.ok) {
            if (settled) outcome.client.end();
            else finish({ session: new SshSession(outcome.client, opts.vm) });
          } else if (outcome.fatal) {
            finish({ error: outcome.error });
          } else {
            lastError = outcome.error;
            if (isKeyRefusal(outcome.error)) opts.onRefused?.();
            schedule();
          }
        });
      }
      schedule();
    };

    if (opts.signal?.aborted) {
      onAbort();
      return;
    }
    opts.signal?.addEventListener('abort', onAbort);
    launch();
  });
}

/** AttemptOutcome is how one connection attempt ended; fatal failures (a changed host key) are not retried. */
type AttemptOutcome =
  | { readonly ok: true; readonly client: SshClient }
  | { readonly ok: false; readonly client: SshClient; readonly error: unknown; readonly fatal: boolean };

async function attempt(opts: WaitForSshOptions, readyTimeout: number, track: (client: SshClient) => void): Promise<AttemptOutcome> {
  const client = new (ssh2().Client)();
  track(client);
  const pinned = await pinnedKeyTypes(opts.knownHosts, opts.host, opts.port).catch(() => []);
  return new Promise<AttemptOutcome>((resolve) => {
    let hostKeyError: unknown = null;
    let done = false;
    const fail = (error: unknown, fatal: boolean): void => {
      if (done) return;
      done = true;
      client.removeAllListeners('ready');
      client.destroy();
      resolve({ ok: false, client, error, fatal });
    };
    const config: ConnectConfig = {
      host: opts.host,
      port: opts.port,
      username: opts.username,
      privateKey: opts.privateKey,
      readyTimeout,
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        checkHostKey({ file: opts.knownHosts, vm: opts.vm, host: opts.host, port: opts.port }, key).then(
          () => verify(true),
          (err: unknown) => {
            hostKeyError = err;
            verify(false);
          },
        );
      },
    };
    if (pinned.length > 0) config.algorithms = { serverHostKey: preferring(pinned) };
    client.once('ready', () => {
      if (done) return;
      done = true;
      client.removeAllListeners('error');
      client.on('error', () => undefined);
      resolve({ ok: true, client });
    });
    client.on('error', (err: Error) => {
      if (hostKeyError) fail(hostKeyError, true);
      else fail(err, false);
    });
    client.on('close', () => fail(hostKeyError ?? new Error('connection closed before login'), hostKeyError !== null));
    client.connect(config);
  });
}

const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;
type HostKeyAlgorithm = (typeof HOST_KEY_ALGORITHMS)[number];

/** preferring puts the pinned key types first, so a guest with several host keys shows the pinned one. */
function preferring(pinned: readonly string[]): HostKeyAlgorithm[] {
  const wanted = new Set(pinned.flatMap((type) => (type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type])));
  return [...HOST_KEY_ALGORITHMS.filter((a) => wanted.has(a)), ...HOST_KEY_ALGORITHMS.filter((a) => !wanted.has(a))];
}

/** isKeyRefusal tells an attempt the guest's sshd answered by refusing the key from one that never got that far. */
function isKeyRefusal(error: unknown): boolean {
  return (error as { level?: string } | null)?.level === 'client-authentication';
}

function waitFailed(opts: WaitForSshOptions, lastError: unknown): XrayError {
  const seconds = formatMs(opts.timeoutMs);
  if (isKeyRefusal(lastError)) {
    return new XrayError(
      'ssh',
      `VM "${opts.vm}" refused the SSH key for user "${opts.username}" for ${seconds}; check ssh_user in its vm.toml and that the guest has the VM's public key (cloud-init installs it on first boot).`,
      { cause: lastError },
    );
  }
  const reason = lastError ? ` (last error: ${errorMessage(lastError)})` : '';
  return new XrayError(
    'timeout',
    `VM "${opts.vm}" did not answer on SSH at ${opts.host}:${opts.port} within ${seconds}${reason}; check "xray console ${opts.vm}" to see whether the guest booted and runs sshd.`,
    { cause: lastError },
  );
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

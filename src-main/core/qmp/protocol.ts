// Runs in: plain Node (core). What QmpClient exchanges with QEMU: the
// greeting's version, events, options, and the words for a failed handshake.
import type { Socket } from 'node:net';
import {
  QmpCommandError,
  QmpDisconnectedError,
  QmpTimeoutError,
  type QmpCommandMessage,
  type QmpConnectStage,
} from './errors';

/** QmpVersion is the version QEMU announces in its greeting. */
export interface QmpVersion {
  readonly qemu: { readonly major: number; readonly minor: number; readonly micro: number };
  readonly package: string;
}

/** QmpEvent is an asynchronous QMP event such as STOP or JOB_STATUS_CHANGE. */
export interface QmpEvent {
  readonly event: string;
  /** data differs per event; readers narrow the fields they use. */
  readonly data: Readonly<Record<string, unknown>>;
  readonly timestamp: { readonly seconds: number; readonly microseconds: number };
}

export type QmpEventListener = (event: QmpEvent) => void;

export interface QmpConnectOptions {
  /** timeoutMs bounds the whole handshake: connect, greeting and negotiation. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** commandTimeoutMs is the default for execute() and waitForEvent(). */
  readonly commandTimeoutMs?: number;
  /** onListenerError receives what an event listener threw (default: console.error). */
  readonly onListenerError?: (err: unknown) => void;
}

export interface QmpExecuteOptions {
  readonly timeoutMs?: number;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

export interface PendingCommand {
  readonly sent: QmpCommandMessage;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (err: Error) => void;
}

/** deferred is a promise with its settle functions beside it. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** isObject is true for a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** parseGreeting returns QEMU's version from a greeting line, or null if it is not one. */
export function parseGreeting(message: unknown): QmpVersion | null {
  if (!isObject(message) || !isObject(message.QMP)) return null;
  const version = message.QMP.version;
  if (!isObject(version) || !isObject(version.qemu)) return null;
  const { major, minor, micro } = version.qemu;
  if (typeof major !== 'number' || typeof minor !== 'number' || typeof micro !== 'number') return null;
  return { qemu: { major, minor, micro }, package: typeof version.package === 'string' ? version.package : '' };
}

/**
 * handshakeInterruption rejects `interrupted` when the handshake's time is up
 * or the caller cancels; `stopWaiting` disarms both once it is over.
 */
export function handshakeInterruption(timeoutMs: number, signal?: AbortSignal): { interrupted: Promise<never>; stopWaiting: () => void } {
  let stopWaiting = (): void => undefined;
  const interrupted = new Promise<never>((_, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer came within ${timeoutMs} ms; check that QEMU runs with -qmp on this socket`)), timeoutMs);
    const onAbort = (): void => reject(new Error('the caller cancelled'));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    stopWaiting = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
  });
  interrupted.catch(() => undefined);
  return { interrupted, stopWaiting };
}

/** socketConnected resolves once `socket` has connected, or rejects with its error. */
export function socketConnected(socket: Socket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/** commandError is the QmpCommandError for QEMU's error reply to `sent`. */
export function commandError(sent: QmpCommandMessage, reply: Record<string, unknown>): QmpCommandError {
  const error = isObject(reply.error) ? reply.error : {};
  const errorClass = typeof error.class === 'string' ? error.class : 'GenericError';
  const desc = typeof error.desc === 'string' ? error.desc : JSON.stringify(reply.error);
  return new QmpCommandError(sent.execute, sent, errorClass, desc, reply);
}

/** connectFailureDetail says in words why a connection failed at a stage of the handshake. */
export function connectFailureDetail(stage: QmpConnectStage, err: unknown): string {
  const code = isObject(err) && typeof err.code === 'string' ? err.code : '';
  if (stage === 'connect') {
    if (code === 'ENOENT') return 'the socket does not exist; check that the VM is running';
    if (code === 'ECONNREFUSED') return 'nothing listens on it, or it is not a socket; check that the VM is running';
    if (code === 'ENOTSOCK') return 'the path is not a socket; check that the VM is running';
  }
  if (err instanceof QmpCommandError) return `QEMU refused qmp_capabilities: ${err.desc}`;
  if (err instanceof QmpDisconnectedError) return `the connection ended during negotiation (${err.reason})`;
  if (err instanceof QmpTimeoutError) return `QEMU did not answer qmp_capabilities within ${err.timeoutMs} ms`;
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\.$/, '');
}

// Runs in: plain Node (core).
import { createConnection, type Socket } from 'node:net';
import { XrayError } from '../../shared/errors';
import { QmpConnectError, QmpDisconnectedError, QmpTimeoutError, quote, type QmpCommandMessage, type QmpConnectStage } from './errors';
import { LineDecoder } from './framing';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  commandError,
  connectFailureDetail,
  deferred,
  handshakeInterruption,
  isObject,
  parseGreeting,
  socketConnected,
  type PendingCommand,
  type QmpConnectOptions,
  type QmpEvent,
  type QmpEventListener,
  type QmpExecuteOptions,
  type QmpVersion,
} from './protocol';

/**
 * QmpChannel is what the rest of the core uses of a QMP connection, so a test
 * can stand in for QEMU's monitor without a socket.
 */
export type QmpChannel = Pick<QmpClient, 'execute' | 'onEvent' | 'waitForEvent' | 'close' | 'closed'>;

/**
 * QmpClient speaks QEMU's machine protocol over a VM's Unix socket. Like
 * QEMU's own Python client it connects in stages (socket, greeting,
 * capabilities negotiation) and then runs one reader loop that routes replies
 * to the command with the same id and events to subscribers. Every command has
 * a timeout, and a disconnect fails every command still waiting.
 */
export class QmpClient {
  readonly socketPath: string;
  /** closed resolves once the connection ends: null after close(), the cause otherwise. */
  readonly closed: Promise<Error | null>;

  readonly #socket: Socket;
  readonly #decoder = new LineDecoder();
  readonly #pending = new Map<string, PendingCommand>();
  readonly #listeners = new Set<QmpEventListener>();
  readonly #disconnectWatchers = new Set<(err: QmpDisconnectedError) => void>();
  readonly #commandTimeoutMs: number;
  readonly #onListenerError: (err: unknown) => void;
  readonly #greeting = deferred<QmpVersion>();
  readonly #resolveClosed: (err: Error | null) => void;
  #version: QmpVersion | null = null;
  #nextId = 1;
  /** #ended holds why the connection ended, once it has. */
  #ended: { reason: string } | null = null;
  /** #handshakeReceived keeps the raw lines seen before negotiation for error reports. */
  #handshakeReceived: string[] = [];
  #negotiated = false;

  private constructor(socketPath: string, socket: Socket, options: QmpConnectOptions) {
    this.socketPath = socketPath;
    this.#socket = socket;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.#onListenerError = options.onListenerError ?? ((err) => console.error('qmp: event listener failed:', err));
    let resolveClosed!: (err: Error | null) => void;
    this.closed = new Promise((resolve) => {
      resolveClosed = resolve;
    });
    this.#resolveClosed = resolveClosed;
    // The greeting may fail before connect() awaits it.
    this.#greeting.promise.catch(() => undefined);

    socket.on('data', (chunk: Buffer) => {
      for (const line of this.#decoder.push(chunk)) {
        if (this.#ended) return;
        this.#handleLine(line);
      }
    });
    socket.on('error', (err) => this.#end(`socket error: ${err.message}`, err));
    socket.on('close', () => {
      this.#greeting.reject(new Error('it closed the connection without sending a QMP greeting'));
      this.#end('QEMU closed the socket', new Error('QEMU closed the QMP socket'));
    });
  }

  /**
   * connect opens `socketPath` and completes the QMP handshake within
   * `timeoutMs`. A missing socket, a peer that is not QEMU, or a QEMU that
   * refuses negotiation fails with a QmpConnectError naming the stage.
   */
  static async connect(socketPath: string, options: QmpConnectOptions): Promise<QmpClient> {
    const client = new QmpClient(socketPath, createConnection(socketPath), options);
    let stage: QmpConnectStage = 'connect';
    const deadline = Date.now() + options.timeoutMs;

    const { interrupted, stopWaiting } = handshakeInterruption(options.timeoutMs, options.signal);

    try {
      await Promise.race([client.#waitForSocket(), interrupted]);
      stage = 'greeting';
      client.#version = await Promise.race([client.#greeting.promise, interrupted]);
      stage = 'negotiation';
      await Promise.race([
        client.execute('qmp_capabilities', undefined, { timeoutMs: Math.max(1, deadline - Date.now()) }),
        interrupted,
      ]);
      client.#negotiated = true;
      client.#handshakeReceived = [];
      return client;
    } catch (err) {
      const received = [...client.#handshakeReceived, client.#decoder.pending].filter((s) => s !== '').join('\n');
      client.#end('the handshake failed', null);
      const detail = connectFailureDetail(stage, err);
      throw new QmpConnectError(stage, socketPath, detail, received, { cause: err });
    } finally {
      stopWaiting();
    }
  }

  /**
   * connectWhenReady is connect for a QEMU that was just spawned: its socket
   * may not exist or listen yet, so connect-stage failures are retried every
   * `retryIntervalMs` until `timeoutMs`. A peer that answers wrongly still
   * fails at once.
   */
  static async connectWhenReady(
    socketPath: string,
    options: QmpConnectOptions & { readonly retryIntervalMs?: number },
  ): Promise<QmpClient> {
    const deadline = Date.now() + options.timeoutMs;
    const interval = options.retryIntervalMs ?? 50;
    for (;;) {
      try {
        return await QmpClient.connect(socketPath, { ...options, timeoutMs: Math.max(1, deadline - Date.now()) });
      } catch (err) {
        const retry = err instanceof QmpConnectError && err.stage === 'connect' && !options.signal?.aborted;
        if (!retry || Date.now() + interval >= deadline) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  /** version is what QEMU announced in its greeting. */
  get version(): QmpVersion {
    if (!this.#version) throw new Error('QmpClient.version read before the greeting');
    return this.#version;
  }

  /** isClosed tells whether the connection has ended. */
  get isClosed(): boolean {
    return this.#ended !== null;
  }

  /**
   * execute sends one command and resolves with its `return` value. Arguments
   * are sent as JSON values, never spliced into a command line.
   */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, options: QmpExecuteOptions = {}): Promise<T> {
    const sent: QmpCommandMessage =
      args === undefined ? { execute: command, id: `xray-${this.#nextId}` } : { execute: command, arguments: args, id: `xray-${this.#nextId}` };
    this.#nextId += 1;
    if (this.#ended) {
      return Promise.reject(new QmpDisconnectedError(command, this.#ended.reason, sent));
    }
    const timeoutMs = options.timeoutMs ?? this.#commandTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(sent.id);
        reject(new QmpTimeoutError(command, sent, timeoutMs));
      }, timeoutMs);
      this.#pending.set(sent.id, { sent, resolve: resolve as (value: unknown) => void, reject, timer });
      this.#socket.write(`${JSON.stringify(sent)}\n`);
    });
  }

  /** onEvent subscribes to every event; the returned function unsubscribes. */
  onEvent(listener: QmpEventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * waitForEvent resolves with the next event called `name` that passes
   * `predicate`. It subscribes at once, so call it before the command that
   * causes the event and await it after.
   */
  waitForEvent(
    name: string,
    predicate: (event: QmpEvent) => boolean = () => true,
    timeoutMs = this.#commandTimeoutMs,
    signal?: AbortSignal,
  ): Promise<QmpEvent> {
    if (this.#ended) return Promise.reject(new QmpDisconnectedError(`event ${name}`, this.#ended.reason));
    return new Promise<QmpEvent>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        unsubscribe();
        this.#disconnectWatchers.delete(onDisconnect);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        finish();
        reject(new XrayError('cancelled', `Stopped waiting for the QEMU event ${name} because the caller cancelled.`));
      };
      const onDisconnect = (err: QmpDisconnectedError): void => {
        finish();
        reject(err);
      };
      const unsubscribe = this.onEvent((event) => {
        if (event.event !== name || !predicate(event)) return;
        finish();
        resolve(event);
      });
      const timer = setTimeout(() => {
        finish();
        reject(new QmpTimeoutError(`event ${name}`, null, timeoutMs));
      }, timeoutMs);
      this.#disconnectWatchers.add(onDisconnect);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** close ends the connection; commands still waiting fail with QmpDisconnectedError. */
  async close(): Promise<void> {
    const closing = new Promise<void>((resolve) => {
      if (this.#socket.destroyed) resolve();
      else this.#socket.once('close', () => resolve());
    });
    this.#end('the client closed the connection', null);
    await closing;
  }

  #waitForSocket(): Promise<void> {
    return this.#ended ? Promise.reject(new Error(this.#ended.reason)) : socketConnected(this.#socket);
  }

  #handleLine(line: string): void {
    if (!this.#negotiated) this.#handshakeReceived.push(line);
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.#greeting.reject(new Error(`it sent something that is not JSON: ${quote(line)}`));
      this.#end(`QEMU sent something that is not JSON: ${quote(line)}`, new Error('QMP protocol error'));
      return;
    }
    if (this.#version === null) {
      const version = parseGreeting(message);
      if (version) this.#greeting.resolve(version);
      else this.#greeting.reject(new Error(`it sent something that is not a QMP greeting: ${quote(line)}`));
      return;
    }
    if (!isObject(message)) return;
    if (typeof message.event === 'string') {
      this.#emit(message as unknown as QmpEvent);
      return;
    }
    if (!('return' in message) && !('error' in message)) return;
    // A reply whose id is unknown answers a command that already timed out.
    const pending = typeof message.id === 'string' ? this.#pending.get(message.id) : undefined;
    if (!pending) return;
    this.#pending.delete(pending.sent.id);
    clearTimeout(pending.timer);
    if ('error' in message) pending.reject(commandError(pending.sent, message));
    else pending.resolve(message.return);
  }

  #emit(event: QmpEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.#onListenerError(err);
      }
    }
  }

  /** #end tears the connection down once; `error` is what `closed` resolves with. */
  #end(reason: string, error: Error | null): void {
    if (this.#ended) return;
    this.#ended = { reason };
    this.#greeting.reject(new Error(reason));
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new QmpDisconnectedError(pending.sent.execute, reason, pending.sent));
    }
    this.#pending.clear();
    for (const watcher of [...this.#disconnectWatchers]) watcher(new QmpDisconnectedError(null, reason));
    this.#disconnectWatchers.clear();
    this.#listeners.clear();
    this.#socket.destroy();
    this.#resolveClosed(error === null ? null : new QmpDisconnectedError(null, reason, null, { cause: error }));
  }
}

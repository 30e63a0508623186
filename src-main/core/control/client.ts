// Runs in: plain Node (core, CLI).
import { connect, type Socket } from 'node:net';
import type { Method, Params, Results, XrayApi, XrayEvent } from '../../shared/contract';
import { XrayError, type XrayErrorCode } from '../../shared/errors';
import { contractProblem } from '../../shared/schemas';
import { LineReader, MAX_REPLY_BYTES, serverMessageSchema } from './protocol';

interface Pending {
  /** method is the call's, so its result can be checked; absent for a subscription. */
  readonly method?: Method;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * ControlClient is the XrayApi of a supervisor reached over its control
 * socket. Outside production it checks every event and the results the UI
 * depends on against the contract's schemas (shared/schemas.ts): an event
 * that breaks it drops the connection, a result that breaks it fails its call.
 */
export class ControlClient implements XrayApi {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(event: XrayEvent) => void>();
  private subscribed = false;
  private closedError: Error | null = null;
  private readonly checkContract = process.env.NODE_ENV !== 'production';

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    const reader = new LineReader((line) => this.receive(line), MAX_REPLY_BYTES);
    socket.on('data', (chunk: string) => {
      if (!reader.push(chunk)) socket.destroy(new Error('The supervisor sent a message that is too long.'));
    });
    socket.on('close', () => this.fail(new XrayError('busy', 'The connection to the Xray supervisor closed; is it still running?')));
    socket.on('error', (err) => this.fail(new XrayError('busy', `The connection to the Xray supervisor failed: ${err.message}.`)));
  }

  static connect(socketPath: string, timeoutMs = 2000): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new XrayError('timeout', `The Xray supervisor at ${socketPath} did not answer in time.`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new ControlClient(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new XrayError('not-found', `No Xray supervisor is listening at ${socketPath} (${(err as NodeJS.ErrnoException).code ?? err.message}).`));
      });
    });
  }

  call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
    return this.send({ method, params }, method) as Promise<Results[M]>;
  }

  subscribe(listener: (event: XrayEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.subscribed) {
      this.subscribed = true;
      void this.send({ subscribe: true }).catch(() => undefined);
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** ready resolves once the subscription is acknowledged by the supervisor. */
  async subscribeAndWait(listener: (event: XrayEvent) => void): Promise<() => void> {
    this.listeners.add(listener);
    if (!this.subscribed) {
      this.subscribed = true;
      await this.send({ subscribe: true });
    }
    return () => {
      this.listeners.delete(listener);
    };
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private send(body: Record<string, unknown>, method?: Method): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      this.socket.write(`${JSON.stringify({ id, ...body })}\n`);
    });
  }

  private receive(line: string): void {
    let parsed;
    try {
      parsed = serverMessageSchema.parse(JSON.parse(line));
    } catch {
      this.socket.destroy(new Error('The supervisor sent a message that is not valid.'));
      return;
    }
    if ('event' in parsed) {
      const problem = this.checkContract ? contractProblem({ event: parsed.event }) : null;
      if (problem) {
        this.socket.destroy(new Error(problem.replace(/\.$/, '')));
        return;
      }
      for (const listener of [...this.listeners]) listener(parsed.event as unknown as XrayEvent);
      return;
    }
    const slot = this.pending.get(parsed.id);
    if (!slot) return;
    this.pending.delete(parsed.id);
    if (!parsed.ok) {
      slot.reject(new XrayError(parsed.error.code as XrayErrorCode, parsed.error.message, { cli: parsed.error.cli }));
      return;
    }
    const problem = this.checkContract && slot.method ? contractProblem({ method: slot.method, result: parsed.value }) : null;
    if (problem) slot.reject(new XrayError('internal', problem));
    else slot.resolve(parsed.value);
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const slot of this.pending.values()) slot.reject(err);
    this.pending.clear();
  }
}

// Runs in: plain Node (core).
import { chmod, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { XrayApi } from '../../shared/contract';
import { XrayError } from '../../shared/errors';
import { callReply, parseCall } from '../../shared/transport';
import { prepareSocketDir } from '../socket-dir';
import { clientMessageSchema, LineReader, MAX_REQUEST_BYTES, type ServerMessage } from './protocol';

/**
 * ControlServer serves the service API on XRAY_HOME/xray.sock (mode 0600) to
 * the CLI, a second app instance and the browser UI's bridge.
 */
export class ControlServer {
  private server: Server | null = null;
  private readonly clients = new Set<Socket>();
  private readonly subscribers = new Set<Socket>();
  /** inFlight holds requests still being answered; close() lets them finish. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly api: XrayApi,
    private readonly socketPath: string,
  ) {}

  /** subscriberCount is how many clients listen to events (UIs that can answer prompts). */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  async listen(): Promise<void> {
    await prepareSocketDir(this.socketPath);
    if (await isSocketAlive(this.socketPath)) {
      throw new XrayError('busy', `Another Xray supervisor already serves ${this.socketPath}.`);
    }
    await rm(this.socketPath, { force: true });
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.socketPath, 0o600);
    this.server = server;
  }

  /**
   * close stops accepting connections, lets requests already being answered
   * send their replies (a `vm.stop` that ends a foreground session, say), then
   * drops every client.
   */
  async close(graceMs = 5000): Promise<void> {
    const server = this.server;
    this.server = null;
    const stopped = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    for (const socket of this.clients) socket.destroy();
    await stopped;
    await rm(this.socketPath, { force: true });
  }

  private accept(socket: Socket): void {
    this.clients.add(socket);
    socket.setEncoding('utf8');
    let unsubscribe: (() => void) | null = null;
    // Events are queued and written together once the current turn is over:
    // a burst costs one write, and whatever emitted (a connection waiting on
    // its firewall decision, say) does not wait for this socket. Replies
    // flush the queue first, so a client still sees everything in order.
    let outbox: string[] = [];
    const flush = (): void => {
      if (outbox.length === 0) return;
      const text = outbox.join('');
      outbox = [];
      if (!socket.destroyed) socket.write(text);
    };
    const sendEvent = (message: ServerMessage): void => {
      if (outbox.length === 0) setImmediate(flush);
      outbox.push(`${JSON.stringify(message)}\n`);
    };
    const send = (message: ServerMessage): void => {
      flush();
      if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
    };
    const reader = new LineReader((line) => {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch {
        socket.destroy();
        return;
      }
      const parsed = clientMessageSchema.safeParse(raw);
      if (!parsed.success) {
        socket.destroy();
        return;
      }
      const message = parsed.data;
      if ('subscribe' in message) {
        if (!unsubscribe) {
          this.subscribers.add(socket);
          unsubscribe = this.api.subscribe((event) => sendEvent({ event }));
        }
        send({ id: message.id, ok: true, value: null });
        return;
      }
      const call = parseCall({ method: message.method, params: message.params });
      const answered = (call.ok ? callReply(this.api, call.value) : Promise.resolve(call)).then((reply) => send({ id: message.id, ...reply }));
      this.inFlight.add(answered);
      void answered.finally(() => this.inFlight.delete(answered));
    }, MAX_REQUEST_BYTES);
    socket.on('data', (chunk: string) => {
      if (!reader.push(chunk)) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      unsubscribe?.();
      this.subscribers.delete(socket);
      this.clients.delete(socket);
    });
  }
}

/** isSocketAlive tells whether something accepts connections on a Unix socket. */
export function isSocketAlive(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

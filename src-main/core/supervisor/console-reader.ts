// Runs in: plain Node (core).
import { Worker } from 'node:worker_threads';

/**
 * READER_SOURCE is the reader thread: it keeps one connection per console
 * socket, reads whatever arrives at once, and reports how many bytes came,
 * what was written and when a connection closed. Plain CommonJS, since a
 * worker started from source gets no bundler.
 */
const READER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { connect } = require('node:net');
const sockets = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'open') {
    const socket = connect(m.path);
    sockets.set(m.id, socket);
    socket.on('data', (data) => parentPort.postMessage({ id: m.id, event: 'data', bytes: data.length }));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(m.id);
      parentPort.postMessage({ id: m.id, event: 'close' });
    });
  } else if (m.op === 'write') {
    const bytes = Buffer.byteLength(m.data);
    sockets.get(m.id)?.write(m.data, () => parentPort.postMessage({ id: m.id, event: 'written', bytes }));
  } else if (m.op === 'close') {
    sockets.get(m.id)?.destroy();
  }
});
`;

type ReaderMessage = { id: number; event: 'data' | 'written'; bytes: number } | { id: number; event: 'close' };

/** ConsoleConnection is a console socket held by the reader thread. */
export interface ConsoleConnection {
  /** write sends input; `pending` counts what the socket has not taken yet. */
  write(data: string): void;
  readonly pending: number;
  close(): void;
}

export interface ConsoleConnectionEvents {
  /** data says that `bytes` arrived on the socket. */
  data(bytes: number): void;
  closed(): void;
}

/**
 * ConsoleReader runs the console sockets on a thread of their own. QEMU's
 * serial port sends a byte at a time, each a socket buffer of its own, so a
 * console socket holds only a few hundred bytes; when they are not read
 * within about 10 ms the guest's driver stops waiting and bytes are lost,
 * for the log too (measured: a reader that paused 30 ms between reads lost
 * 14 of the 74 lines UEFI's `help` prints). The supervisor's thread can be
 * busy that long (proxying, TLS, garbage collection); this one never is.
 * One thread serves every console of the process while any is open.
 */
export class ConsoleReader {
  private static worker: Worker | null = null;
  private static readonly connections = new Map<number, ConsoleConnectionEvents & { pending: number }>();
  private static nextId = 1;

  static connect(path: string, events: ConsoleConnectionEvents): ConsoleConnection {
    const worker = ConsoleReader.start();
    const id = ConsoleReader.nextId++;
    const state = { ...events, pending: 0 };
    ConsoleReader.connections.set(id, state);
    worker.postMessage({ op: 'open', id, path });
    return {
      write: (data) => {
        state.pending += Buffer.byteLength(data);
        worker.postMessage({ op: 'write', id, data });
      },
      get pending() {
        return state.pending;
      },
      close: () => worker.postMessage({ op: 'close', id }),
    };
  }

  private static start(): Worker {
    if (ConsoleReader.worker) return ConsoleReader.worker;
    const worker = new Worker(READER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (message: ReaderMessage) => {
      const connection = ConsoleReader.connections.get(message.id);
      if (!connection) return;
      if (message.event === 'data') connection.data(message.bytes);
      else if (message.event === 'written') connection.pending -= message.bytes;
      else {
        ConsoleReader.connections.delete(message.id);
        connection.closed();
        if (ConsoleReader.connections.size === 0 && ConsoleReader.worker === worker) {
          ConsoleReader.worker = null;
          void worker.terminate();
        }
      }
    });
    worker.once('error', () => {
      ConsoleReader.worker = null;
      const lost = [...ConsoleReader.connections.values()];
      ConsoleReader.connections.clear();
      for (const connection of lost) connection.closed();
    });
    ConsoleReader.worker = worker;
    return worker;
  }
}

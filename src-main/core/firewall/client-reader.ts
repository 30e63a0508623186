// Runs in: plain Node (core). How the proxy reads a client connection: into
// slabs of its own rather than a fresh buffer per read.
import { Socket } from 'node:net';
import { ReadSlab } from './read-slab';

/**
 * ByteSink receives what a client sent, in order. A chunk is a view into
 * the reader's slab: it stays as it is until handed to release(), so a sink
 * that keeps bytes past its call copies them or releases them later.
 */
export type ByteSink = (chunk: Buffer) => void;

/** StreamHandle is the part of a socket's native handle that adopting it needs. */
interface StreamHandle {
  useUserBuffer(buffer: Uint8Array): void;
}

/**
 * ClientReader owns an accepted client connection's reads. Node reads an
 * accepted socket 64 KiB at a time into a newly allocated buffer, which
 * halves an upload's speed through the proxy (every read is an allocation,
 * and the garbage collector frees them on another thread). Sockets Node
 * opens itself can read into the caller's buffers instead (net's `onread`
 * option, which the relay's upstream uses); an accepted one is given that by
 * moving its native handle into a new Socket built with `onread`, before the
 * handle has read anything (the server pauses on connect). The old Socket,
 * left without a handle, is destroyed, which only takes it off the server's
 * connection count.
 *
 * Where the handle cannot be adopted (a Node without `_handle` or
 * `useUserBuffer` on it), the accepted socket is read as usual through
 * 'data' events, behind the same interface; `slabbed` says which.
 *
 * One sink at a time receives the bytes (the handshake, the sniffer, then
 * the relay), each taking over with read(); bytes that arrive with no sink,
 * or that a sink puts back, wait for the next one. The socket is paused
 * whenever no sink reads.
 */
export class ClientReader {
  readonly socket: Socket;
  readonly slabbed: boolean;
  private sink: ByteSink | null = null;
  private held: Buffer | null = null;
  private readonly slab = new ReadSlab();
  private readonly onData = (chunk: Buffer): void => this.deliver(chunk);

  /** `accepted` comes from a server created with pauseOnConnect. */
  constructor(accepted: Socket) {
    const handle = adoptableHandle(accepted);
    if (handle === null) {
      this.socket = accepted;
      this.slabbed = false;
      accepted.on('data', this.onData);
    } else {
      (accepted as unknown as { _handle: StreamHandle | null })._handle = null;
      accepted.destroy();
      const options = {
        handle,
        allowHalfOpen: true,
        onread: { buffer: () => this.slab.room(), callback: (bytes: number) => this.deliver(this.slab.take(bytes)) },
      };
      this.socket = new Socket(options as ConstructorParameters<typeof Socket>[0]);
      this.slabbed = true;
    }
    this.socket.pause();
  }

  /** read hands the client's bytes to `sink` from now on, those held first, and resumes reading. */
  read(sink: ByteSink): void {
    this.sink = sink;
    const held = this.held;
    this.held = null;
    if (held !== null) sink(held);
    if (this.sink === sink) this.socket.resume();
  }

  /** pause stops reading from the socket; the sink stays, and resume() goes on. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** stop pauses and drops the sink: what arrives until the next read() is held. */
  stop(): void {
    this.sink = null;
    this.socket.pause();
  }

  /** putBack holds `bytes` (copied) ahead of anything still held, for the next sink. */
  putBack(bytes: Buffer): void {
    this.held = this.held === null ? Buffer.from(bytes) : Buffer.concat([bytes, this.held]);
  }

  /** release says a chunk the sink received is no longer needed, so its part of the slab may be read into again. */
  release(chunk: Buffer): void {
    if (this.slabbed) this.slab.written(chunk);
  }

  /**
   * toStream gives the client's bytes back to the socket's own stream
   * ('data' events, read(), unshift), for a consumer that needs a plain
   * socket: the egress interceptor, whose TLS takes over the handle's reads.
   * The socket stays paused until that consumer resumes it.
   */
  toStream(): void {
    if (!this.slabbed) {
      this.socket.off('data', this.onData);
      if (this.held !== null) this.socket.unshift(this.held);
      this.held = null;
      this.sink = null;
      return;
    }
    if (this.held !== null) this.socket.push(this.held);
    this.held = null;
    this.sink = (chunk) => {
      this.socket.push(Buffer.from(chunk));
      this.release(chunk);
    };
  }

  private deliver(chunk: Buffer): void {
    if (this.sink !== null) {
      this.sink(chunk);
      return;
    }
    this.held = this.held === null ? Buffer.from(chunk) : Buffer.concat([this.held, chunk]);
    this.release(chunk);
    this.socket.pause();
  }
}

/** adoptableHandle is the accepted socket's native handle, when it can read into a buffer of ours. */
function adoptableHandle(socket: Socket): StreamHandle | null {
  const handle = (socket as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
  return handle && typeof handle.useUserBuffer === 'function' ? (handle as StreamHandle) : null;
}

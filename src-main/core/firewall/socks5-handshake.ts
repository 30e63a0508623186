// Runs in: plain Node (core).
import type { Socket } from 'node:net';
import type { ClientReader } from './client-reader';
import { type HandshakeTarget, METHOD_NONE_ACCEPTABLE, METHOD_NO_AUTH, parseHandshake, replyBytes } from './socks5-wire';

/**
 * readHandshake reads a client's greeting and request (socks5-wire.ts says
 * what the bytes mean), answers the greeting, and turns away whatever is not
 * a CONNECT it can serve. A CONNECT goes to `onConnect` with the client
 * paused and what it sent after the request (a copy). The whole handshake must arrive
 * within `timeoutMs`; a client that stalls, or hangs up halfway (with
 * allowHalfOpen Node would wait for us), is closed.
 */
export function readHandshake(reader: ClientReader, timeoutMs: number, onConnect: (target: HandshakeTarget, early: Buffer) => void): void {
  const client = reader.socket;
  let received: Buffer | null = null;
  let answered = false;
  const timer = setTimeout(() => client.destroy(), timeoutMs);
  const onEnd = (): void => {
    client.destroy();
  };
  const onClose = (): void => {
    clearTimeout(timer);
  };
  const stop = (): void => {
    clearTimeout(timer);
    reader.stop();
    client.off('end', onEnd);
    client.off('close', onClose);
  };
  const onData = (chunk: Buffer): void => {
    received = received === null ? Buffer.from(chunk) : Buffer.concat([received, chunk]);
    reader.release(chunk);
    const handshake = parseHandshake(received);
    if (handshake.greeted && !answered) {
      answered = true;
      client.write(METHOD_NO_AUTH);
    }
    switch (handshake.kind) {
      case 'incomplete':
        return;
      case 'invalid':
        stop();
        client.destroy();
        return;
      case 'no-acceptable-method':
        stop();
        refuse(client, METHOD_NONE_ACCEPTABLE);
        return;
      case 'refused':
        stop();
        refuse(client, replyBytes(handshake.reply));
        return;
      case 'connect':
        stop();
        onConnect(handshake.target, handshake.early);
    }
  };
  client.once('end', onEnd);
  client.once('close', onClose);
  reader.read(onData);
}

/** refuse sends a final reply and closes; a client that never closes its side is not waited for. */
export function refuse(client: Socket, reply: Buffer): void {
  client.end(reply, () => client.destroy());
}

/**
 * abort ends a connection whose SOCKS reply was already sent: a TCP reset
 * where the client came over TCP, a plain close on the VM's Unix socket (Node
 * cannot reset a pipe and throws if asked to).
 */
export function abort(client: Socket): void {
  if (client.remoteAddress !== undefined) client.resetAndDestroy();
  else client.destroy();
}

// Runs in: plain Node (core).
import type { ClientReader } from './client-reader';
import { SERVER_SPEAKS_FIRST } from './services';
import { httpHeadComplete, looksLikeHttp, looksLikeTls, tlsHelloComplete } from './sniff';

/** FirstBytesLimits bound how long and how much readFirstBytes reads. */
export interface FirstBytesLimits {
  /** port is the destination port: for protocols where the server speaks first, nothing is waited for. */
  readonly port: number;
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

/** enough tells whether the first bytes say all they will about a name: a whole TLS ClientHello or HTTP head, or anything else. */
function enough(bytes: Buffer, maxBytes: number): boolean {
  if (bytes.length >= maxBytes) return true;
  if (bytes.length === 0) return false;
  if (looksLikeTls(bytes)) return tlsHelloComplete(bytes);
  if (looksLikeHttp(bytes)) return httpHeadComplete(bytes);
  return true;
}

/**
 * readFirstBytes collects what a client sends first (after `early`, the
 * bytes that came with its request) so a name can be read from it: until
 * they are enough, `maxBytes` arrived, the client ended its side, or
 * `timeoutMs` passed (no wait at all for a server-speaks-first port with
 * nothing yet). Then `done` is called once, with the client paused and
 * anything beyond `maxBytes` put back for the relay (see ClientReader.putBack).
 * Returns a function that stops early without calling `done`.
 */
export function readFirstBytes(reader: ClientReader, early: Buffer, limits: FirstBytesLimits, done: (firstBytes: Buffer) => void): () => void {
  const client = reader.socket;
  let bytes: Buffer = Buffer.from(early);
  const stop = (): void => {
    clearTimeout(timer);
    reader.stop();
    client.off('end', finish);
  };
  function finish(): void {
    stop();
    done(bytes);
  }
  const onData = (chunk: Buffer): void => {
    const room = limits.maxBytes - bytes.length;
    bytes = Buffer.concat([bytes, chunk.subarray(0, room)]);
    if (chunk.length > room) reader.putBack(chunk.subarray(room));
    reader.release(chunk);
    if (chunk.length > room || enough(bytes, limits.maxBytes)) finish();
  };
  const wait = SERVER_SPEAKS_FIRST.has(limits.port) && bytes.length === 0 ? 0 : limits.timeoutMs;
  const timer = setTimeout(finish, wait);
  if (enough(bytes, limits.maxBytes)) {
    finish();
    return stop;
  }
  client.once('end', finish);
  reader.read(onData);
  return stop;
}

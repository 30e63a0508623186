// Runs in: anywhere. Wire format of the control socket: one JSON object a line.
import * as z from 'zod';

/**
 * MAX_REQUEST_BYTES bounds one line a client sends (requests are small);
 * MAX_REPLY_BYTES one line the server sends (a long firewall log, say). A
 * peer past either is dropped, so it cannot grow the other's buffers.
 */
export const MAX_REQUEST_BYTES = 1024 * 1024;
export const MAX_REPLY_BYTES = 64 * 1024 * 1024;

export const clientMessageSchema = z.union([
  z.object({ id: z.number().int(), method: z.string(), params: z.unknown().optional() }),
  z.object({ id: z.number().int(), subscribe: z.literal(true) }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

export const serverMessageSchema = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), value: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: z.object({ code: z.string(), message: z.string(), cli: z.string().optional() }) }),
  z.object({ event: z.object({ type: z.string() }).passthrough() }),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

/**
 * LineReader splits a stream into lines, refusing any line longer than
 * `maxLineBytes` (the caller then drops the connection). Each chunk is
 * scanned once: the part of a line still open waits in a list of pieces,
 * so a peer that never sends a newline costs linear time, not quadratic.
 */
export class LineReader {
  private pieces: string[] = [];
  private pending = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineBytes: number,
  ) {}

  push(chunk: string): boolean {
    let start = 0;
    let index: number;
    while ((index = chunk.indexOf('\n', start)) >= 0) {
      const tail = chunk.slice(start, index);
      const line = this.pieces.length === 0 ? tail : this.pieces.join('') + tail;
      this.pieces = [];
      this.pending = 0;
      start = index + 1;
      if (line.length > this.maxLineBytes) return false;
      if (line.trim() !== '') this.onLine(line);
    }
    if (start < chunk.length) {
      this.pieces.push(chunk.slice(start));
      this.pending += chunk.length - start;
    }
    return this.pending <= this.maxLineBytes;
  }
}

// Runs in: anywhere. Wire format of the control socket: one JSON object a line.
import { z } from 'zod';

/** MAX_LINE_BYTES bounds one message so a broken peer cannot grow our buffers. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

export const clientMessageSchema = z.union([
  z.object({ id: z.number().int(), method: z.string(), params: z.unknown().optional() }),
  z.object({ id: z.number().int(), subscribe: z.literal(true) }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

export const serverMessageSchema = z.union([
  z.object({ id: z.number().int(), ok: z.literal(true), value: z.unknown() }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
  z.object({ event: z.object({ type: z.string() }).passthrough() }),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

/**
 * LineReader splits a byte stream into lines, refusing any line longer than
 * MAX_LINE_BYTES (the caller then drops the connection).
 */
export class LineReader {
  private buffered = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): boolean {
    this.buffered += chunk;
    let index: number;
    while ((index = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, index);
      this.buffered = this.buffered.slice(index + 1);
      if (line.trim() !== '') this.onLine(line);
    }
    return this.buffered.length <= MAX_LINE_BYTES;
  }
}

// Runs in: plain Node (core).
import { StringDecoder } from 'node:string_decoder';

/**
 * LineDecoder turns the byte stream of a QMP socket into whole lines. QMP sends
 * one JSON document per line, but the socket delivers arbitrary chunks: a line
 * may arrive in many pieces (big replies such as query-qmp-schema) and a UTF-8
 * character may be cut in two, so bytes are decoded and buffered until a
 * newline ends the line.
 */
export class LineDecoder {
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';

  /** push returns the lines completed by `chunk`, without their line endings. */
  push(chunk: Buffer): string[] {
    let text = this.#decoder.write(chunk);
    const lines: string[] = [];
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      const line = (this.#partial + text.slice(0, newline)).replace(/\r$/, '');
      this.#partial = '';
      if (line.trim() !== '') lines.push(line);
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    this.#partial += text;
    return lines;
  }

  /** pending is what arrived after the last newline, kept for error reports. */
  get pending(): string {
    return this.#partial;
  }
}

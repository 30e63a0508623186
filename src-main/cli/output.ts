// Runs in: plain Node (CLI).
import type { Writable } from 'node:stream';

/** Output writes what a command prints, in colour only on a terminal that wants it. */
export class Output {
  readonly colour: boolean;

  constructor(
    readonly stdout: Writable & { isTTY?: boolean; columns?: number },
    readonly stderr: Writable & { isTTY?: boolean },
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.colour = Boolean(stdout.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  }

  line(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  error(text: string): void {
    this.stderr.write(`xray: ${text}\n`);
  }

  warn(text: string): void {
    this.stderr.write(`xray: warning: ${text}\n`);
  }

  bold(text: string): string {
    return this.colour ? `\x1b[1m${text}\x1b[0m` : text;
  }

  dim(text: string): string {
    return this.colour ? `\x1b[2m${text}\x1b[0m` : text;
  }

  tint(text: string, colour: 'green' | 'yellow' | 'red' | 'cyan'): string {
    if (!this.colour) return text;
    const code = { green: 32, yellow: 33, red: 31, cyan: 36 }[colour];
    return `\x1b[${code}m${text}\x1b[0m`;
  }

  /** table prints rows under a header, columns padded to their widest cell, each line after indent, in one write. */
  table(header: readonly string[], rows: readonly (readonly string[])[], indent = ''): void {
    const widths = header.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))));
    const render = (cells: readonly string[]) =>
      cells
        .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell))))
        .join('  ')
        .trimEnd();
    const lines = [indent + this.bold(render(header)), ...rows.map((row) => indent + render(row))];
    this.stdout.write(`${lines.join('\n')}\n`);
  }
}

function visibleLength(text: string): number {
  // Most cells hold no colour: skip the replace (a table of 200 VMs measures 3,000 cells).
  if (!text.includes('\x1b')) return text.length;
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}

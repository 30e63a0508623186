// Runs in: plain Node (core).
import { constants, open as openFd, watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { promisify } from 'node:util';
import { CONSOLE_SCROLLBACK_CHARS, fromLineStart, type ConsoleOutput } from '../../shared/console';
import { XrayError } from '../../shared/errors';
import type { ConsoleScrollback } from '../../shared/models';
import { nodeCrypto } from '../builtins';

/** COALESCE_MS gathers what the guest prints in a burst into one event. */
const COALESCE_MS = 15;
/** POLL_MS is how often the log is read besides when a watch says it changed (a watch can miss a change or be unavailable). */
const POLL_MS = 500;
/** READ_BYTES is read per flush at most, so a flood of output goes out as a stream of bounded events. */
const READ_BYTES = 256 * 1024;
/** INPUT_BACKLOG_BYTES is how much typed input may wait for a guest that does not read its console. */
const INPUT_BACKLOG_BYTES = 64 * 1024;

export interface ConsoleRelayOptions {
  readonly vm: string;
  /** input is the FIFO QEMU reads the console's input from; log is the console.log QEMU appends every byte of output to. */
  readonly input: string;
  readonly log: string;
  /**
   * from is where this QEMU's output starts in the log: its size before a
   * launch. null for an adopted QEMU: the relay starts a scrollback's worth
   * back, at a line's start.
   */
  readonly from: number | null;
  readonly emit: (output: ConsoleOutput) => void;
}

/**
 * ConsoleRelay is a running VM's serial console for the supervisor: output
 * for subscribers (console.output events) and a bounded scrollback, and
 * input to the guest.
 *
 * The output is read from console.log, QEMU's only output for the console
 * (see makeConsolePipe): it holds everything in order, including what the
 * guest printed while no supervisor ran (between a supervisor's exit and
 * the next one adopting the VM), so a relay that starts late, reads a
 * scrollback or is kept busy cannot miss or repeat a line. A watch on the
 * log says when it grew. Input goes to the console's FIFO.
 */
export class ConsoleRelay {
  readonly stream = nodeCrypto().randomUUID();
  private log: FileHandle | null = null;
  private offset = 0;
  private position = 0;
  private text = '';
  private skipToLine = false;
  private readonly decoder = new StringDecoder('utf8');
  private readonly buffer = Buffer.allocUnsafe(READ_BYTES);
  private input: Socket | null = null;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private poller: NodeJS.Timeout | null = null;
  private reading: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(private readonly options: ConsoleRelayOptions) {}

  /** open reads what the log holds from `from`, opens the console's input and follows the log from then on. */
  static async open(options: ConsoleRelayOptions): Promise<ConsoleRelay> {
    const relay = new ConsoleRelay(options);
    await relay.start();
    return relay;
  }

  /** scrollback is the end of the console up to now; console.output events go on from its `end`. */
  async scrollback(): Promise<ConsoleScrollback> {
    await this.flush();
    return { stream: this.stream, end: this.position, text: this.text };
  }

  /** write sends typed input to the guest's serial port. */
  write(data: string): void {
    const { input } = this;
    if (!input) {
      throw new XrayError('unsupported', `VM "${this.options.vm}" was started by an earlier version of Xray, so its console shows output but takes no input; restart the VM to type into it.`);
    }
    if (input.writableLength > INPUT_BACKLOG_BYTES) {
      throw new XrayError('busy', `VM "${this.options.vm}" is not reading its console; wait for the guest, then type again.`);
    }
    input.write(data);
  }

  /** close reads the last output the log holds, then lets go of the input and the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.poller) clearInterval(this.poller);
    this.watcher?.close();
    await this.flush();
    this.input?.destroy();
    await this.log?.close().catch(() => undefined);
    this.log = null;
  }

  private async start(): Promise<void> {
    const size = await stat(this.options.log).then((s) => s.size, () => 0);
    const { from } = this.options;
    this.offset = from === null ? Math.max(0, size - CONSOLE_SCROLLBACK_CHARS) : Math.min(from, size);
    this.skipToLine = from === null && this.offset > 0;
    this.input = await this.openInput();
    this.follow();
    await this.flush();
  }

  /**
   * openInput opens the console's FIFO for writing, without blocking: QEMU
   * holds its other end. None for a QEMU from before there was one (its
   * serial port wrote to console.log only) or one that is gone.
   */
  private async openInput(): Promise<Socket | null> {
    const isFifo = await stat(this.options.input).then((s) => s.isFIFO(), () => false);
    if (!isFifo) return null;
    // A plain descriptor, not a FileHandle, which would close it when collected: the socket owns it.
    const fd = await promisify(openFd)(this.options.input, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => null);
    if (fd === null) return null;
    const input = new Socket({ fd, readable: false, writable: true });
    input.on('error', () => {
      if (this.input === input) this.input = null;
    });
    return input;
  }

  /** follow reads the log whenever a watch says it changed, and every POLL_MS in case a change went unseen. */
  private follow(): void {
    try {
      this.watcher = watch(this.options.log, { persistent: false }, () => this.schedule(COALESCE_MS));
      this.watcher.on('error', () => undefined);
    } catch {
      this.watcher = null;
    }
    this.poller = setInterval(() => void this.flush(), POLL_MS);
    this.poller.unref();
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delayMs);
  }

  /** flush reads what the log gained, one read at a time, and announces it. */
  private flush(): Promise<void> {
    this.reading = this.reading.then(() => this.read()).catch(() => undefined);
    return this.reading;
  }

  private async read(): Promise<void> {
    this.log ??= await open(this.options.log, 'r').catch(() => null);
    if (!this.log) return;
    const { buffer } = this;
    let filled = 0;
    while (filled < READ_BYTES) {
      const { bytesRead } = await this.log.read(buffer, filled, READ_BYTES - filled, this.offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled === 0) {
      // Someone emptied the log while QEMU runs: go on from where it is now.
      const { size } = await this.log.stat();
      if (size < this.offset) this.offset = size;
    }
    this.offset += filled;
    if (filled === READ_BYTES) this.schedule(0);
    let text = this.decoder.write(buffer.subarray(0, filled));
    if (this.skipToLine && text !== '') {
      const newline = text.indexOf('\n');
      if (newline < 0) return;
      this.skipToLine = false;
      text = text.slice(newline + 1);
    }
    if (text !== '') this.announce(text);
  }

  private announce(text: string): void {
    const start = this.position;
    this.position += text.length;
    this.text += text;
    if (this.text.length > CONSOLE_SCROLLBACK_CHARS) this.text = fromLineStart(this.text, this.text.length - CONSOLE_SCROLLBACK_CHARS);
    this.options.emit({ type: 'console.output', vm: this.options.vm, stream: this.stream, start, text });
  }
}

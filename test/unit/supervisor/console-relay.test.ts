// The console relay against a stand-in for QEMU's pipe chardev with
// /dev/null as its output: every byte goes to the log only, and typed input
// is read from the FIFO, which the stand-in holds open for reading and
// writing as QEMU does. Real QEMU is in test/integration/supervisor/console.test.ts.
import { constants, open as openFd } from 'node:fs';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONSOLE_SCROLLBACK_CHARS, type ConsoleOutput } from '../../../src-main/shared/console';
import { makeConsolePipe } from '../../../src-main/core/qemu';
import { ConsoleRelay } from '../../../src-main/core/supervisor/console-relay';
import { refusal } from '../../helpers/refusal';
import { waitFor } from '../../helpers/wait';

/** FakeChardev is QEMU's `-chardev pipe,path=…,logfile=…` as the relay meets it. */
class FakeChardev {
  readonly input: Buffer[] = [];
  private constructor(
    readonly fifo: string,
    readonly log: string,
    private readonly reader: Socket,
  ) {
    reader.on('data', (data: Buffer) => this.input.push(data));
  }

  static async open(dir: string): Promise<FakeChardev> {
    const base = join(dir, 'console');
    const log = join(dir, 'console.log');
    await writeFile(log, '');
    await makeConsolePipe({ base, input: `${base}.in`, output: `${base}.out` });
    const fd = await promisify(openFd)(`${base}.in`, constants.O_RDWR | constants.O_NONBLOCK);
    return new FakeChardev(`${base}.in`, log, new Socket({ fd, readable: true, writable: false }));
  }

  /** print logs bytes, as QEMU does after writing them to /dev/null. */
  async print(bytes: string | Buffer): Promise<void> {
    await appendFile(this.log, bytes);
  }

  close(): void {
    this.reader.destroy();
  }
}

let dir: string;
let chardev: FakeChardev;
let relays: ConsoleRelay[];
let events: ConsoleOutput[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-relay-'));
  chardev = await FakeChardev.open(dir);
  relays = [];
  events = [];
});

afterEach(async () => {
  for (const relay of relays) await relay.close();
  chardev.close();
  await rm(dir, { recursive: true, force: true });
});

async function relay(from: number | null, input = chardev.fifo): Promise<ConsoleRelay> {
  const r = await ConsoleRelay.open({ vm: 'web', input, log: chardev.log, from, emit: (e) => events.push(e) });
  relays.push(r);
  return r;
}

/** streamed is what the events carried, checked to follow one another without gap or overlap. */
function streamed(): string {
  let end = 0;
  for (const e of events) {
    expect(e.start).toBe(end);
    end += e.text.length;
  }
  return events.map((e) => e.text).join('');
}

describe('ConsoleRelay', () => {
  it('announces what was printed before it connected and after, each once and in order', async () => {
    await appendFile(chardev.log, 'an earlier run\n');
    const from = 'an earlier run\n'.length;
    await chardev.print('BdsDxe: loading\r\n');
    const r = await relay(from);
    await chardev.print('\x1b[1m\x1b[33mShell> \x1b[0m');
    await waitFor('the prompt', () => streamed().includes('Shell>'));
    expect(streamed()).toBe('BdsDxe: loading\r\n\x1b[1m\x1b[33mShell> \x1b[0m');
    expect(await r.scrollback()).toEqual({ stream: r.stream, end: streamed().length, text: streamed() });
  });

  it('gathers a burst of output into few events', async () => {
    await relay(0);
    for (let i = 0; i < 200; i++) await chardev.print(`line ${i}\n`);
    await waitFor('the last line', () => streamed().includes('line 199\n'));
    expect(events.length).toBeLessThan(50);
  });

  it('follows a log that grows in many small writes, all of it, in order', async () => {
    await relay(0);
    let printed = '';
    for (let i = 0; i < 2000; i++) {
      printed += `line ${i}\n`;
      await chardev.print(`line ${i}\n`);
    }
    await waitFor('the last line', () => streamed().length >= printed.length);
    expect(streamed()).toBe(printed);
  });

  it('keeps a character whose bytes arrive in two writes whole', async () => {
    await relay(0);
    const e = Buffer.from('é\n');
    await chardev.print(e.subarray(0, 1));
    await new Promise((resolve) => setTimeout(resolve, 60));
    await chardev.print(e.subarray(1));
    await waitFor('the line', () => streamed() === 'é\n');
  });

  it('starts an adopted console a scrollback back, at a line start, and keeps its scrollback to that bound', async () => {
    const line = `${'x'.repeat(99)}\n`;
    await appendFile(chardev.log, line.repeat(Math.ceil((CONSOLE_SCROLLBACK_CHARS * 1.5) / line.length)));
    const r = await relay(null);
    const first = await r.scrollback();
    expect(first.text.startsWith('x')).toBe(true);
    expect(first.text.length).toBeLessThanOrEqual(CONSOLE_SCROLLBACK_CHARS);
    expect(first.text.length % line.length).toBe(0);
    await chardev.print(line.repeat(5000).replaceAll('x', 'y'));
    await waitFor('the new lines', async () => (await r.scrollback()).text.endsWith(`${'y'.repeat(99)}\n`));
    const later = await r.scrollback();
    expect(later.text.length).toBeLessThanOrEqual(CONSOLE_SCROLLBACK_CHARS);
    expect(later.text.length % line.length).toBe(0);
    expect(later.end).toBe(streamed().length);
  });

  it('sends typed input to the guest', async () => {
    const r = await relay(0);
    await r.write('echo hi\r');
    await waitFor('the input', () => Buffer.concat(chardev.input).toString() === 'echo hi\r');
  });

  it('follows the log of a QEMU without a console input, and says why it takes no input', async () => {
    const r = await relay(0, join(dir, 'missing.in'));
    await appendFile(chardev.log, 'old QEMU\n');
    await waitFor('the polled line', () => streamed() === 'old QEMU\n');
    expect((await refusal(Promise.resolve().then(() => r.write('x')))).message).toBe(
      'VM "web" was started by an earlier version of Xray, so its console shows output but takes no input; restart the VM to type into it.',
    );
  });

  it('announces the last lines QEMU logged when it closes', async () => {
    const r = await relay(0);
    await appendFile(chardev.log, 'reboot: Power down\n');
    await r.close();
    expect(streamed()).toBe('reboot: Power down\n');
  });
});

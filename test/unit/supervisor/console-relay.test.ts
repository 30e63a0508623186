// The console relay against a stand-in for QEMU's socket chardev with a
// logfile: each byte goes to the connected client, then to the log (as
// QEMU's qemu_chr_write_buffer does), and bytes printed with no client go
// to the log only. Real QEMU is in test/integration/supervisor/console.test.ts.
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONSOLE_SCROLLBACK_CHARS, type ConsoleOutput } from '../../../src-main/shared/console';
import { ConsoleRelay } from '../../../src-main/core/supervisor/console-relay';
import { refusal } from '../../helpers/refusal';
import { waitFor } from '../../helpers/wait';

/** FakeChardev is QEMU's `-chardev socket,server=on,wait=off,logfile=…` as the relay meets it. */
class FakeChardev {
  client: Socket | null = null;
  readonly input: Buffer[] = [];
  private constructor(
    readonly socket: string,
    readonly log: string,
    private readonly server: Server,
  ) {}

  static async listen(dir: string): Promise<FakeChardev> {
    const socket = join(dir, 'console.sock');
    const log = join(dir, 'console.log');
    await writeFile(log, '');
    const server = createServer();
    const chardev = new FakeChardev(socket, log, server);
    server.on('connection', (client) => {
      chardev.client = client;
      client.on('data', (data) => chardev.input.push(data));
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    return chardev;
  }

  /** print sends bytes to the client if one is connected, then logs them, `logLagMs` later. */
  async print(bytes: string | Buffer, logLagMs = 0): Promise<void> {
    this.client?.write(bytes);
    if (logLagMs > 0) await new Promise((resolve) => setTimeout(resolve, logLagMs));
    await appendFile(this.log, bytes);
  }

  async close(): Promise<void> {
    this.client?.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

let dir: string;
let chardev: FakeChardev;
let relays: ConsoleRelay[];
let events: ConsoleOutput[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-relay-'));
  chardev = await FakeChardev.listen(dir);
  relays = [];
  events = [];
});

afterEach(async () => {
  for (const relay of relays) await relay.close();
  await chardev.close();
  await rm(dir, { recursive: true, force: true });
});

async function relay(from: number | null, socket = chardev.socket): Promise<ConsoleRelay> {
  const r = await ConsoleRelay.open({ vm: 'web', socket, log: chardev.log, from, emit: (e) => events.push(e) });
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
    await waitFor('the relay to connect', () => chardev.client);
    await chardev.print('\x1b[1m\x1b[33mShell> \x1b[0m');
    await waitFor('the prompt', () => streamed().includes('Shell>'));
    expect(streamed()).toBe('BdsDxe: loading\r\n\x1b[1m\x1b[33mShell> \x1b[0m');
    expect(await r.scrollback()).toEqual({ stream: r.stream, end: streamed().length, text: streamed() });
  });

  it('gathers a burst of output into few events', async () => {
    await relay(0);
    await waitFor('the relay to connect', () => chardev.client);
    for (let i = 0; i < 200; i++) await chardev.print(`line ${i}\n`);
    await waitFor('the last line', () => streamed().includes('line 199\n'));
    expect(events.length).toBeLessThan(50);
  });

  it('waits for a log write that lags behind the socket', async () => {
    await relay(0);
    await waitFor('the relay to connect', () => chardev.client);
    await chardev.print('late line\n', 200);
    await waitFor('the late line', () => streamed() === 'late line\n');
  });

  it('keeps a character whose bytes arrive in two writes whole', async () => {
    await relay(0);
    await waitFor('the relay to connect', () => chardev.client);
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
    await waitFor('the relay to connect', () => chardev.client);
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

  it('follows the log of a QEMU without a console socket, and says why it takes no input', async () => {
    const r = await relay(0, join(dir, 'missing.sock'));
    await appendFile(chardev.log, 'old QEMU\n');
    await waitFor('the polled line', () => streamed() === 'old QEMU\n');
    expect((await refusal(Promise.resolve().then(() => r.write('x')))).message).toBe(
      'VM "web" was started by an earlier version of Xray, so its console shows output but takes no input; restart the VM to type into it.',
    );
  });

  it('announces the last lines QEMU logged when it closes', async () => {
    const r = await relay(0);
    await waitFor('the relay to connect', () => chardev.client);
    await appendFile(chardev.log, 'reboot: Power down\n');
    await r.close();
    expect(streamed()).toBe('reboot: Power down\n');
  });
});

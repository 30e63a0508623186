// A VM's serial console through the supervisor, on real QEMU under TCG: the
// firmware-only guest's UEFI prints in colour on the serial port and its
// shell takes keys. Output comes as console.output events and vm.console's
// scrollback, the same bytes console.log keeps, none lost or repeated: not
// while the supervisor's thread and the host's cores are busy, not across a
// new supervisor.
import { spawn, spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import type { ConsoleOutput } from '../../../src-main/shared/console';
import { contractProblem } from '../../../src-main/shared/schemas';
import { hostSupervisor, type SupervisorHost } from '../../../src-main/core/supervisor/host';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../../helpers/home';
import { refusal } from '../../helpers/refusal';
import { waitFor } from '../../helpers/wait';

const ESC = String.fromCharCode(27);
/** plain is console text without its colour sequences. */
const plain = (text: string) => text.replaceAll(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');

let home: TestHome;
let hosts: SupervisorHost[] = [];
let events: XrayEvent[] = [];

beforeEach(async () => {
  home = await makeTestHome('xray-console-');
  await addFirmwareOnlyVm(home.paths, 'fw');
  events = [];
});

afterEach(async () => {
  for (const host of hosts) {
    await host.supervisor.stopAll(true);
    await host.close().catch(() => undefined);
  }
  hosts = [];
  const left = spawnSync('pgrep', ['-f', `qemu-system.*${home.root}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const pid of left) process.kill(Number(pid), 'SIGKILL');
  await home.cleanup();
  expect(events.map((event) => contractProblem({ event })).filter(Boolean)).toEqual([]);
});

async function host(): Promise<SupervisorHost> {
  const h = await hostSupervisor(home.paths, { login: () => new Promise(() => undefined) });
  h.service.subscribe((e) => events.push(e));
  hosts.push(h);
  return h;
}

/** output is what the console.output events carried (of one stream, from a position), checked to follow on without gap or overlap. */
function output(stream?: string, from = 0): string {
  const chunks = events.filter((e): e is ConsoleOutput => e.type === 'console.output' && (stream === undefined || e.stream === stream) && e.start >= from);
  let end = chunks[0]?.start ?? 0;
  for (const chunk of chunks) {
    expect(chunk.start).toBe(end);
    end += chunk.text.length;
  }
  return chunks.map((c) => c.text).join('');
}

const log = () => readFile(home.paths.vm('fw').consoleLog, 'utf8');

/** busyFor keeps this thread from doing anything else for `ms`, as a busy supervisor would. */
function busyFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // Nothing: the point is that the event loop does not turn.
  }
}

describe('the serial console of a running VM', () => {
  it('streams UEFI in colour, gives the same as a scrollback, and takes typed keys', async () => {
    const h = await host();
    await writeFile(home.paths.vm('fw').consoleLog, 'an earlier run\n');
    await h.service.call('vm.start', { name: 'fw' });
    await waitFor('the UEFI shell', () => output().includes('Shell>'), 90_000);
    expect(output()).toContain(`${ESC}[1m${ESC}[33m`);
    expect(output()).not.toContain('an earlier run');

    const scrollback = await h.service.call('vm.console', { name: 'fw' });
    expect(scrollback.text).toBe(output());
    expect(scrollback.end).toBe(output().length);
    expect(scrollback.stream).toBe(events.find((e): e is ConsoleOutput => e.type === 'console.output')?.stream);

    await h.service.call('vm.consoleInput', { name: 'fw', data: 'echo relayed-to-uefi\r' });
    await waitFor('the echo', () => output().includes('\r\nrelayed-to-uefi\r\n'), 30_000);
    expect(`an earlier run\n${output()}`).toBe(await log());
    expect(events.filter((e) => e.type === 'console.output').length).toBeLessThan(output().length / 20);
  });

  it('loses no byte of a burst while the supervisor and every core of the host are busy', async () => {
    const h = await host();
    await h.service.call('vm.start', { name: 'fw' });
    await waitFor('the UEFI shell', () => output().includes('Shell>'), 90_000);
    const before = output().length;
    // A busy loop on each core competes with QEMU and with this process for the CPU.
    const burners = cpus().map(() => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
    try {
      await h.service.call('vm.consoleInput', { name: 'fw', data: 'help\r' });
      // UEFI prints its 74 lines of help in a second or more here; this thread answers only every 50 ms meanwhile.
      for (let i = 0; i < 40; i++) {
        busyFor(50);
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      for (const burner of burners) burner.kill('SIGKILL');
    }
    await waitFor('the end of help', () => /vol +\S*- Displays or modifies information about a disk volume\./.test(plain(output())), 30_000);
    const help = plain(output().slice(before));
    expect(help).toMatch(/efidecompress - Decompresses a file using UEFI Decompression Algorithm\.\r?\n/);
    // OVMF's shell lists its 70 commands in order, one a line: a byte lost breaks a line, a count or the order.
    const commands = help.split(/\r?\n/).filter((line) => /^[a-z0-9]+ +- [A-Z]/.test(line)).map((line) => line.split(' ')[0]);
    expect(commands).toHaveLength(70);
    expect(commands).toEqual([...commands].sort());
    expect(output()).toBe(await log());
  });

  it('goes on under a new supervisor with what the VM printed while none ran, once', async () => {
    const first = await host();
    await first.service.call('vm.start', { name: 'fw' });
    await waitFor('the boot countdown', () => output().includes('in 5 seconds'), 90_000);
    await first.close();
    const printedBefore = output();
    // The countdown goes on with no supervisor: only console.log sees it.
    await waitFor('the log to grow', async () => (await log()).length > printedBefore.length, 10_000);

    const second = await host();
    expect(second.supervisor.running).toEqual(['fw']);
    const scrollback = await second.service.call('vm.console', { name: 'fw' });
    expect(scrollback.text.startsWith(printedBefore)).toBe(true);
    expect(scrollback.text.length).toBeGreaterThan(printedBefore.length);
    await second.service.call('vm.consoleInput', { name: 'fw', data: '\r' });
    await waitFor('the shell prompt', async () => (await second.service.call('vm.console', { name: 'fw' })).text.includes('Shell>'), 60_000);
    const now = await second.service.call('vm.console', { name: 'fw' });
    expect(now.stream).toBe(scrollback.stream);
    expect(scrollback.text + output(now.stream!, scrollback.end)).toBe(now.text);
    expect(now.text).toBe(await log());
  });

  it('refuses input to a stopped VM in a sentence, and shows the end of its last run', async () => {
    const h = await host();
    await writeFile(home.paths.vm('fw').consoleLog, 'last run\n');
    const err = await refusal(h.service.call('vm.consoleInput', { name: 'fw', data: 'x' }));
    expect(err.message).toBe('VM "fw" is not running, so its console takes no input; start it first.');
    expect(await h.service.call('vm.console', { name: 'fw' })).toEqual({ stream: null, end: 9, text: 'last run\n' });
  });
});

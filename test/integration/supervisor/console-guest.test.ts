// A real Debian guest's serial console through the real supervisor, on QEMU
// under TCG: the kernel's and systemd's boot lines and the getty's login
// prompt come live as console.output events, a coloured line a process in the
// guest writes to /dev/ttyS0 after boot (the kind the old, fetched-once log
// view missed) arrives live and in order, and keys typed reach the getty,
// which answers.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleOutput } from '../../../src-main/shared/console';
import type { XrayEvent } from '../../../src-main/shared/contract';
import { connectVm } from '../../../src-main/core/ssh';
import { hostSupervisor, type SupervisorHost } from '../../../src-main/core/supervisor/host';
import { ensureTestGuest } from '../../guest/guest';
import { makeTestHome, type TestHome } from '../../helpers/home';
import { waitFor } from '../../helpers/wait';

const skip = process.env.XRAY_SKIP_GUEST === '1';
const VM = 'tty';
const BOOT_MS = 4 * 60_000;
const ESC = String.fromCharCode(27);

let home: TestHome;
let host: SupervisorHost;
const events: XrayEvent[] = [];

/** output is what the console.output events carried, checked to follow on without gap or overlap. */
function output(): string {
  const chunks = events.filter((e): e is ConsoleOutput => e.type === 'console.output');
  let end = 0;
  for (const chunk of chunks) {
    expect(chunk.start).toBe(end);
    end += chunk.text.length;
  }
  return chunks.map((c) => c.text).join('');
}

describe.skipIf(skip)('the serial console of a real guest', () => {
  beforeAll(async () => {
    const { image } = await ensureTestGuest({ log: (line) => process.stderr.write(`[guest build] ${line}\n`) });
    home = await makeTestHome('xray-console-guest-');
    host = await hostSupervisor(home.paths);
    host.service.subscribe((e) => events.push(e));
    await host.service.call('base.import', { path: image, name: 'debian', arch: 'x86_64', link: true, cloudInit: true });
    await host.service.call('vm.create', { name: VM, base: 'debian', memoryMb: 1024, cpus: 2, sshUser: 'xray' });
  }, 40 * 60_000);

  afterAll(async () => {
    await host?.close({ stopVms: true });
    await home?.cleanup();
  }, 120_000);

  it('streams the boot, a line written to ttyS0 in colour, and the getty\'s answer to typed keys', async () => {
    await host.service.call('vm.start', { name: VM });
    await waitFor('the kernel banner', () => output().includes('Linux version'), BOOT_MS);
    await waitFor('the login prompt', () => output().includes(' login: '), BOOT_MS);
    await waitFor('the VM to be ready', async () => (await host.service.call('vm.list', {}))[0]?.state === 'ready', BOOT_MS);

    const ssh = await connectVm(home.paths, VM, await host.service.sshTarget(VM), { timeoutMs: 60_000 });
    try {
      const wrote = await ssh.exec(`sudo -n sh -c 'printf "\\033[1;31mwritten-to-ttyS0\\033[0m\\n" > /dev/ttyS0'`, { timeoutMs: 30_000 });
      expect(wrote.code).toBe(0);
    } finally {
      ssh.close();
    }
    // The tty turns \n into \r\n; the colour codes come through for the terminal to draw.
    await waitFor('the line written to ttyS0', () => output().includes(`${ESC}[1;31mwritten-to-ttyS0${ESC}[0m\r\n`), 30_000);

    const typedAt = output().length;
    await host.service.call('vm.consoleInput', { name: VM, data: 'xray\r' });
    await waitFor('the getty to ask for a password', () => output().slice(typedAt).includes('Password: '), 60_000);
    // The getty echoed the typed name (the Enter as \r, then the new line) before asking.
    expect(output().slice(typedAt)).toMatch(/^xray\r\r\n([^\n]*\r\n)*Password: /);

    // What the events carried is console.log to the byte, and vm.console gives the same end.
    await waitFor('the events to catch up with the log', async () => output() === (await readFile(home.paths.vm(VM).consoleLog, 'utf8')));
    const scrollback = await host.service.call('vm.console', { name: VM });
    expect(scrollback.end).toBe(output().length);
    expect(output().endsWith(scrollback.text)).toBe(true);
  }, 2 * BOOT_MS);
});

// `xray console` through the built binary, on real QEMU under TCG: in a real
// terminal (a pty made by script(1)) it attaches to the firmware-only VM's
// serial console, shows the UEFI shell, sends keys (Ctrl-C included) to it and
// lets go on Ctrl-] or when the VM stops; without a terminal it prints the end.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XRAY_BIN, xray } from '../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';
import { isProcessAlive } from '../../src-main/core/vms/runtime';
import { waitFor } from '../helpers/wait';

let home: TestHome;
let attached: ChildProcessWithoutNullStreams | null = null;

beforeEach(async () => {
  home = await makeTestHome('xray-cli-console-');
  await addFirmwareOnlyVm(home.paths, 'box');
  await xray(home.root, ['config', 'set', 'stop_timeout', '2']);
});

afterEach(async () => {
  attached?.kill('SIGKILL');
  attached = null;
  await xray(home.root, ['stop', 'box', '--force']);
  const pid = Number((await readFile(home.paths.lockFile, 'utf8').catch(() => '0')).trim());
  if (pid && isProcessAlive(pid)) process.kill(pid, 'SIGTERM');
  await waitFor('the daemon to exit', () => !pid || !isProcessAlive(pid));
  await home.cleanup();
});

/** inTerminal runs `xray ARGS` in a pty of its own; what is written to its stdin is typed there. */
function inTerminal(args: readonly string[]): { child: ChildProcessWithoutNullStreams; screen: () => string; exit: Promise<number | null> } {
  const command = [process.execPath, XRAY_BIN, ...args].join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, XRAY_HOME: home.root, NO_COLOR: '1' } });
  let screen = '';
  child.stdout.on('data', (d: Buffer) => (screen += d.toString('utf8')));
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  attached = child;
  return { child, screen: () => screen, exit };
}

describe('xray console', () => {
  it('attaches a terminal to the UEFI shell, sends keys, and detaches on Ctrl-]', async () => {
    expect((await xray(home.root, ['start', 'box'])).code).toBe(0);
    const term = inTerminal(['console', 'box']);
    await waitFor('the attach message', () => term.screen().includes('Connected to the serial console of VM "box"; press Ctrl-] to detach.'), 30_000);
    await waitFor('the UEFI shell', () => term.screen().includes('Shell>'), 90_000);

    term.child.stdin.write('echo typed-in-a-tty\r');
    await waitFor('the shell to echo it', () => term.screen().includes('\r\ntyped-in-a-tty\r\n'), 30_000);
    // Ctrl-C is a key for the guest, not the end of xray.
    term.child.stdin.write('\x03');
    term.child.stdin.write('echo still-attached\r');
    await waitFor('the second echo', () => term.screen().includes('\r\nstill-attached\r\n'), 30_000);

    term.child.stdin.write('\x1d');
    expect(await term.exit).toBe(0);
    expect(term.screen()).toContain('Detached from VM "box".');
    // The guest's line ends reach the terminal as the guest sent them, not with a \r added.
    expect(term.screen()).not.toContain('\r\r\n');
    // Detaching leaves the VM running.
    expect(JSON.parse((await xray(home.root, ['list', '--json'])).stdout)[0].pid).toEqual(expect.any(Number));

    // Without a terminal it prints the end of the console, as text.
    const tail = await xray(home.root, ['console', 'box', '--lines', '3']);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(tail.stdout).toContain('still-attached');
  }, 180_000);

  it('says so when the VM stops under it, and refuses to attach to a stopped VM in a sentence', async () => {
    expect((await xray(home.root, ['start', 'box'])).code).toBe(0);
    const term = inTerminal(['console', 'box']);
    await waitFor('the attach message', () => term.screen().includes('press Ctrl-] to detach'), 30_000);
    expect((await xray(home.root, ['stop', 'box', '--force'])).code).toBe(0);
    expect(await term.exit).toBe(0);
    expect(term.screen()).toContain('VM "box" stopped.');

    const again = inTerminal(['console', 'box']);
    expect(await again.exit).not.toBe(0);
    expect(again.screen().trim()).toBe('xray: VM "box" is not running; start it with "xray start box", or see the end of its console with "xray console box --lines 50".');
  }, 180_000);
});

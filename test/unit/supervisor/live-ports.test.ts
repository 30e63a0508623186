// Ports of a running VM, without QEMU or a guest: the monitor lines that
// change forwards (only checked integers and fixed words get in), how QEMU's
// answers become sentences, the guest's `ss` output read into listeners, and
// the session kept open for a view that asks again and again.
import { describe, expect, it } from 'vitest';
import type { QmpChannel } from '../../../src-main/core/qmp';
import { hostfwdAddLine, hostfwdRemoveLine, liveForwards } from '../../../src-main/core/supervisor/live-forwards';
import { parseListeners } from '../../../src-main/core/supervisor/guest-listeners';
import { GuestLink } from '../../../src-main/core/supervisor/guest-link';
import type { SshSession } from '../../../src-main/core/ssh';
import { refusal } from '../../helpers/refusal';

/** NO_BOOT_CHECKS stand for the boot diagnosis, which these questions to a ready guest never reach. */
const NO_BOOT_CHECKS = {
  bootTimeoutMs: async () => 60_000,
  diagnose: () => Promise.reject(new Error('no guest is booting here')),
};

describe('hostfwd lines', () => {
  it.each([
    [{ host: 8080, guest: 80 }, 'hostfwd_add net0 tcp:127.0.0.1:8080-:80'],
    [{ host: 1, guest: 65535 }, 'hostfwd_add net0 tcp:127.0.0.1:1-:65535'],
  ])('forwards %j as %s', (mapping, line) => {
    expect(hostfwdAddLine(mapping)).toBe(line);
  });

  it('removes by host port', () => {
    expect(hostfwdRemoveLine(8080)).toBe('hostfwd_remove net0 tcp:127.0.0.1:8080');
  });

  it.each([0, 65536, 80.5, Number.NaN, -1, '80; quit' as unknown as number, '8080' as unknown as number])('lets no %j into a monitor line', async (bad) => {
    expect((await refusal(Promise.resolve().then(() => hostfwdAddLine({ host: 8080, guest: bad })))).code).toBe('invalid-argument');
    expect((await refusal(Promise.resolve().then(() => hostfwdAddLine({ host: bad, guest: 80 })))).code).toBe('invalid-argument');
    expect((await refusal(Promise.resolve().then(() => hostfwdRemoveLine(bad)))).code).toBe('invalid-argument');
  });
});

/** monitor answers human-monitor-command with what QEMU 7.2 printed for each line, and records the lines. */
function monitor(answers: Record<string, string>): QmpChannel & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    execute: async <T>(command: string, args?: Record<string, unknown>) => {
      expect(command).toBe('human-monitor-command');
      const line = String(args?.['command-line']);
      lines.push(line);
      return (answers[line] ?? '') as T;
    },
  } as unknown as QmpChannel & { lines: string[] };
}

describe('liveForwards', () => {
  it('adds and removes through the monitor', async () => {
    const qmp = monitor({ 'hostfwd_remove net0 tcp:127.0.0.1:8080': 'host forwarding rule for tcp:127.0.0.1:8080 removed\r\n' });
    const forwards = liveForwards('web', qmp);
    await forwards.add({ host: 8080, guest: 80 });
    await forwards.remove({ host: 8080, guest: 80 });
    expect(qmp.lines).toEqual(['hostfwd_add net0 tcp:127.0.0.1:8080-:80', 'hostfwd_remove net0 tcp:127.0.0.1:8080']);
  });

  it('says in one sentence that a host port is taken, and by what', async () => {
    const qmp = monitor({ 'hostfwd_add net0 tcp:127.0.0.1:8080-:80': "Could not set up host forwarding rule 'tcp:127.0.0.1:8080-:80'\r\n" });
    const err = await refusal(liveForwards('web', qmp, async () => 'nginx, pid 42').add({ host: 8080, guest: 80 }));
    expect([err.code, err.message]).toEqual(['in-use', 'Host port 8080 is in use on this machine (held by nginx, pid 42); pick another host port.']);
  });

  it('leaves a forward QEMU does not have, and reports anything else QEMU says', async () => {
    const qmp = monitor({
      'hostfwd_remove net0 tcp:127.0.0.1:8080': 'host forwarding rule for tcp:127.0.0.1:8080 not found\r\n',
      'hostfwd_remove net0 tcp:127.0.0.1:9090': "unrecognized netdev id 'net0'\r\n",
    });
    await liveForwards('web', qmp).remove({ host: 8080, guest: 80 });
    const err = await refusal(liveForwards('web', qmp).remove({ host: 9090, guest: 90 }));
    expect([err.code, err.message]).toEqual(['qemu', `QEMU did not remove the forward from host port 9090 for VM "web" (unrecognized netdev id 'net0').`]);
  });
});

describe('parseListeners', () => {
  it('reads ss -Htlnp into one listener a port, with its addresses, program and reach', () => {
    const text = [
      'LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:(("sshd",pid=512,fd=3))',
      'LISTEN 0      5            0.0.0.0:8000      0.0.0.0:*    users:(("python3",pid=901,fd=3))',
      'LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*    users:(("systemd-resolve",pid=300,fd=14))',
      'LISTEN 0      128             [::]:22           [::]:*    users:(("sshd",pid=512,fd=4))',
      'LISTEN 0      511                *:80              *:*    users:(("apache2",pid=77,fd=4))',
      'LISTEN 0      128            [::1]:631          [::]:*',
      '',
    ].join('\n');
    expect(parseListeners(text)).toEqual([
      { port: 22, addresses: ['0.0.0.0', '::'], program: 'sshd', reachable: true },
      { port: 53, addresses: ['127.0.0.53'], program: 'systemd-resolve', reachable: false },
      { port: 80, addresses: ['*'], program: 'apache2', reachable: true },
      { port: 631, addresses: ['::1'], program: null, reachable: false },
      { port: 8000, addresses: ['0.0.0.0'], program: 'python3', reachable: true },
    ]);
  });

  it('reads ss -Htln (no sudo) and skips what is not a listener', () => {
    expect(parseListeners('LISTEN 0 5 10.0.2.15:9000 0.0.0.0:*\nESTAB 0 0 10.0.2.15:22 10.0.2.2:5555\nnonsense\n')).toEqual([
      { port: 9000, addresses: ['10.0.2.15'], program: null, reachable: true },
    ]);
  });
});

describe('GuestLink.listening', () => {
  /** fakeSession answers `ss` with `text` (or fails) and records whether it was closed. */
  function fakeSession(text: string | Error) {
    const session = {
      closed: false,
      get isOpen() {
        return !session.closed;
      },
      close() {
        session.closed = true;
      },
      async exec(_command: string, opts: { onStdout?: (t: string) => void }) {
        if (text instanceof Error) throw text;
        opts.onStdout?.(text);
        return { code: 0, signal: null };
      },
    };
    return session;
  }

  it('logs in once for questions asked one after another, and closes the session when told to forget', async () => {
    const sessions: ReturnType<typeof fakeSession>[] = [];
    const link = new GuestLink({
      login: async () => {
        sessions.push(fakeSession('LISTEN 0 5 0.0.0.0:8000 0.0.0.0:*\n'));
        return sessions.at(-1) as unknown as SshSession;
      },
      emit: () => undefined,
      runStartHooks: async () => undefined,
      ...NO_BOOT_CHECKS,
    });
    const [a, b] = await Promise.all([link.listening('web'), link.listening('web')]);
    expect(await link.listening('web')).toEqual(a);
    expect(b).toEqual([{ port: 8000, addresses: ['0.0.0.0'], program: null, reachable: true }]);
    expect(sessions).toHaveLength(1);
    link.forget('web');
    await Promise.resolve();
    expect(sessions[0]!.closed).toBe(true);
    await link.listening('web');
    expect(sessions).toHaveLength(2);
    link.cancel();
  });

  it('logs in again after a question failed or the guest closed the session', async () => {
    const answers = [new Error('channel closed'), 'LISTEN 0 5 0.0.0.0:22 0.0.0.0:*\n', 'LISTEN 0 5 0.0.0.0:22 0.0.0.0:*\n'];
    const sessions: ReturnType<typeof fakeSession>[] = [];
    const link = new GuestLink({
      login: async () => {
        sessions.push(fakeSession(answers[sessions.length]!));
        return sessions.at(-1) as unknown as SshSession;
      },
      emit: () => undefined,
      runStartHooks: async () => undefined,
      ...NO_BOOT_CHECKS,
    });
    await expect(link.listening('web')).rejects.toThrow('channel closed');
    expect((await link.listening('web')).map((l) => l.port)).toEqual([22]);
    sessions[1]!.closed = true;
    expect((await link.listening('web')).map((l) => l.port)).toEqual([22]);
    expect(sessions).toHaveLength(3);
    link.cancel();
  });
});

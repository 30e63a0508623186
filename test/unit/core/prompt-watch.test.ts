// PromptWatch over a scripted SSH session: the `ss` rounds a guest would
// print, and what the prompts show and do because of them. The real guest
// path runs in test/e2e/guest.test.ts.
import { describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import type { Destination } from '../../../src-main/shared/models';
import { PromptBroker } from '../../../src-main/core/firewall/prompts';
import { PromptWatch, parseSsProcess, parseSsSockets } from '../../../src-main/core/supervisor/prompt-watch';
import type { ExecOptions, ExecResult, SshSession } from '../../../src-main/core/ssh';
import { waitFor } from '../../helpers/wait';

it.each([
  ['0      0      10.0.2.15:41834  10.0.2.254:8080  users:(("curl",pid=812,fd=5))\n', { pid: 812, command: 'curl' }],
  ['0 0 10.0.2.15:1 1.2.3.4:443 users:(("node",pid=77,fd=21),("node",pid=78,fd=21))', { pid: 77, command: 'node' }],
  ['', null],
  ['0 0 10.0.2.15:1 1.2.3.4:443\n', null],
])('reads the guest process from ss output %#', (text, expected) => {
  expect(parseSsProcess(text)).toEqual(expected);
});

it('reads sockets with canonical peers, IPv6 in brackets, from ss -Htnpa', () => {
  const text = [
    'ESTAB     0 0 10.0.2.15:41834 198.18.0.10:80 users:(("curl",pid=812,fd=5))',
    'SYN-SENT  0 1 [::ffff:10.0.2.15]:1 [::ffff:198.18.0.11]:443 users:(("wget",pid=9,fd=3))',
    'TIME-WAIT 0 0 10.0.2.15:3 [2001:DB8::1]:22',
    'LISTEN    0 128 0.0.0.0:22 0.0.0.0:*',
  ].join('\n');
  expect(parseSsSockets(text)).toEqual([
    { state: 'ESTAB', peer: '198.18.0.10:80', process: { pid: 812, command: 'curl' } },
    { state: 'SYN-SENT', peer: '198.18.0.11:443', process: { pid: 9, command: 'wget' } },
    { state: 'TIME-WAIT', peer: '[2001:db8::1]:22', process: null },
  ]);
});

const dest = (ip: string, port: number): Destination => ({ ip, port, name: null, nameSource: null, service: null });

/** scriptedGuest answers each `ss` with the next round (the last repeats) and `ps` with a user and command line. */
function scriptedGuest(rounds: string[]): { session: SshSession; commands: string[]; failSs: boolean } {
  const guest = { session: null as unknown as SshSession, commands: [] as string[], failSs: false };
  let round = 0;
  guest.session = {
    async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
      guest.commands.push(command);
      if (command.startsWith('sudo -n ss')) {
        if (guest.failSs) return { code: 1, signal: null };
        opts.onStdout?.(rounds[Math.min(round++, rounds.length - 1)] ?? '');
      } else if (command.startsWith('ps ')) opts.onStdout?.('xray curl -sS http://198.18.0.10/\n');
      return { code: 0, signal: null };
    },
    close() {},
  } as unknown as SshSession;
  return guest;
}

function setup(rounds: string[]) {
  const events: XrayEvent[] = [];
  const broker = new PromptBroker({ emit: (e) => events.push(e), clientCount: () => 1, rulesFor: () => null, persist: async () => {} });
  const guest = scriptedGuest(rounds);
  const watch = new PromptWatch({ broker, reachable: () => true, openSession: async () => guest.session, intervalMs: 5 });
  return { events, broker, watch, guest };
}

const holding = 'ESTAB 0 0 10.0.2.15:41834 198.18.0.10:80 users:(("curl",pid=812,fd=5))\n';

describe('PromptWatch', () => {
  it('names the guest program holding the connection on its prompt', async () => {
    const { broker, watch } = setup([holding]);
    void broker.request('web', dest('198.18.0.10', 80));
    watch.promptOpened(broker.list()[0]!);
    await waitFor('the guest process on the prompt', () => broker.list()[0]?.guestProcess !== null);
    expect(broker.list()[0]?.guestProcess).toEqual({ pid: 812, command: 'curl -sS http://198.18.0.10/', user: 'xray' });
    broker.cancelVm('web');
  });

  it('closes a prompt as abandoned once the guest no longer holds the connection it was seen holding', async () => {
    const { broker, watch, events } = setup([holding, holding, '']);
    const decision = broker.request('web', dest('198.18.0.10', 80));
    watch.promptOpened(broker.list()[0]!);
    expect(await decision).toEqual({ action: 'deny', reason: 'abandoned' });
    expect(events.at(-1)).toMatchObject({ type: 'prompt.closed', reason: 'abandoned', action: 'deny' });
  });

  it('never abandons a prompt whose connection it never saw (a guest whose ss says nothing useful)', async () => {
    const { broker, watch, guest } = setup(['']);
    void broker.request('web', dest('198.18.0.10', 80));
    watch.promptOpened(broker.list()[0]!);
    await waitFor('five commands in the guest', () => guest.commands.length >= 5);
    expect(broker.list()).toHaveLength(1);
    broker.cancelVm('web');
  });

  it('ignores sockets to the same address on another port, and ones already closing', async () => {
    const { broker, watch, guest } = setup(['ESTAB 0 0 10.0.2.15:1 198.18.0.10:443 users:(("curl",pid=1,fd=3))\nTIME-WAIT 0 0 10.0.2.15:2 198.18.0.10:80\n']);
    void broker.request('web', dest('198.18.0.10', 80));
    watch.promptOpened(broker.list()[0]!);
    await waitFor('three commands in the guest', () => guest.commands.length >= 3);
    expect(broker.list()[0]?.guestProcess).toBeNull();
    broker.cancelVm('web');
  });
});

describe('PromptWatch between watches', () => {
  it('watches a prompt opened just as the previous watch was ending', async () => {
    const { broker, watch, guest } = setup([holding]);
    const first = broker.request('web', dest('198.18.0.10', 80));
    watch.promptOpened(broker.list()[0]!);
    await waitFor('the guest process on the prompt', () => broker.list()[0]?.guestProcess !== null);
    // The watch sees no open prompt on its next round and ends; a new prompt opens meanwhile.
    broker.cancelVm('web');
    await first;
    void broker.request('web', dest('198.18.0.10', 80));
    watch.promptOpened(broker.list()[0]!);
    await waitFor('the guest process on the prompt', () => broker.list()[0]?.guestProcess !== null);
    expect(guest.commands.filter((c) => c.startsWith('sudo -n ss')).length).toBeGreaterThan(1);
    broker.cancelVm('web');
  });

  it('does not start over against a guest that cannot tell', async () => {
    const { broker, watch, guest } = setup([]);
    guest.failSs = true;
    void broker.request('web', dest('198.18.0.10', 80));
    watch.promptOpened(broker.list()[0]!);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(guest.commands.filter((c) => c.startsWith('sudo -n ss'))).toHaveLength(1);
    broker.cancelVm('web');
  });
});

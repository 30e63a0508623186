// VmMachine's guarded moves and the staged stop on their own, without a supervisor.
import { describe, expect, it, vi } from 'vitest';
import { HomePaths } from '../../../src-main/core/paths';
import { VmMachine, type MachineChange } from '../../../src-main/core/supervisor/machine';
import { canMove } from '../../../src-main/core/supervisor/states';
import { stopInStages, type StopSteps } from '../../../src-main/core/supervisor/stop';
import { refusal } from '../../helpers/refusal';
import { FakeQemuProcess } from './fakes';

const paths = new HomePaths('/nonexistent/xray-home').vm('web');
const timings = { powerButtonMs: 1_000, sshMs: 3_000, quitMs: 500, killMs: 500 };

function machine(): { vm: VmMachine; changes: MachineChange[] } {
  const changes: MachineChange[] = [];
  return { vm: new VmMachine('web', paths, (change) => changes.push(change)), changes };
}

describe('the transition table', () => {
  it.each([
    ['stopped', 'ready'],
    ['stopping', 'booting'],
    ['crashed', 'booting'],
    ['ready', 'starting'],
    ['stopping', 'crashed'],
  ] as const)('has no move from %s to %s', (from, to) => {
    expect(canMove(from, to)).toBe(false);
  });
});

describe('VmMachine', () => {
  it('refuses an operation its state does not allow, as an error', () => {
    const { vm } = machine();
    expect(() => vm.booted()).toThrow('VM "web" is stopped, so it cannot boot.');
  });

  it('makes no move when the guest answers a VM that is no longer booting', () => {
    const { vm, changes } = machine();
    expect(vm.guestAnswered()).toBe(false);
    expect(changes).toEqual([]);
  });

  it('has nothing to stop while stopped', async () => {
    const { vm } = machine();
    expect((await refusal(vm.stop({ force: false, timings, guestPoweroff: null }))).message).toBe('VM "web" is stopped, so there is nothing to stop.');
  });

  it('adopts a running QEMU straight into booting', () => {
    const { vm, changes } = machine();
    vm.adopt(new FakeQemuProcess('web', { answersPowerButton: true, sudo: 'powers-off', quitExits: true }, []));
    expect(changes).toEqual([{ state: 'booting', previous: 'stopped' }]);
  });
});

/** steps is a QEMU whose guest ignores the power button; `exit` ends it. */
function steps(guestPoweroff: StopSteps['guestPoweroff']): StopSteps & { exit(): void; calls: string[] } {
  let exit!: () => void;
  const exited = new Promise<void>((resolve) => (exit = resolve));
  const calls: string[] = [];
  return {
    calls,
    exit,
    exited,
    guestPoweroff,
    powerButton: async () => void calls.push('power button'),
    quit: async () => void calls.push('quit'),
    kill: () => {
      calls.push('kill');
      exit();
    },
  };
}

describe('stopInStages', () => {
  it('credits the power button for a guest that went down in the SSH stage before the command was sent', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const qemu = steps(() => new Promise(() => undefined));
      const stopping = stopInStages(qemu, timings, false);
      await vi.advanceTimersByTimeAsync(1_000);
      qemu.exit();
      expect(await stopping).toBe('power-button');
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives up on an SSH command that never returns once sshMs has passed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const qemu = steps(() => new Promise(() => undefined));
      const stopping = stopInStages(qemu, timings, false);
      await vi.advanceTimersByTimeAsync(1_000 + 3_000 + 500);
      expect(await stopping).toBe('kill');
      expect(qemu.calls).toEqual(['power button', 'quit', 'kill']);
    } finally {
      vi.useRealTimers();
    }
  });
});

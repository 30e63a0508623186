import { describe, expect, it } from 'vitest';
import { QuitGate } from '../../../src-main/electron/quit-gate';

/** quitting builds a gate over fakes of the dialog, the backend and the app, recording what happened. */
function quitting(running: string[], answers: number[], closeError: Error | null = null) {
  const log: string[] = [];
  const gate = new QuitGate({
    runningVms: () => Promise.resolve(running),
    ask: (question) => {
      log.push(`ask: ${question.message ?? ''}`);
      return Promise.resolve(answers.shift() ?? 2);
    },
    close: (stopVms) => {
      log.push(`close stopVms=${stopVms}`);
      return closeError ? Promise.reject(closeError) : Promise.resolve();
    },
    showError: (message) => log.push(`error: ${message}`),
    quit: () => log.push('quit'),
  });
  const quit = (): boolean => {
    let prevented = false;
    gate.beforeQuit({ preventDefault: () => (prevented = true) });
    return prevented;
  };
  return { log, quit };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('QuitGate', () => {
  it('closes without asking when no VM runs, then lets the final quit through', async () => {
    const q = quitting([], []);
    expect(q.quit()).toBe(true);
    await settle();
    expect(q.log).toEqual(['close stopVms=false', 'quit']);
    expect(q.quit()).toBe(false);
  });

  it('stops the VMs on "Stop & Quit" and leaves them on "Leave Running & Quit"', async () => {
    const stop = quitting(['web'], [0]);
    stop.quit();
    await settle();
    expect(stop.log).toEqual(['ask: Stop 1 running VM and quit?', 'close stopVms=true', 'quit']);
    const leave = quitting(['web', 'db'], [1]);
    leave.quit();
    await settle();
    expect(leave.log).toEqual(['ask: Stop 2 running VMs and quit?', 'close stopVms=false', 'quit']);
  });

  it('keeps the app running on Cancel, and asks again at the next quit', async () => {
    const q = quitting(['web'], [2, 0]);
    expect(q.quit()).toBe(true);
    await settle();
    expect(q.log).toEqual(['ask: Stop 1 running VM and quit?']);
    q.quit();
    await settle();
    expect(q.log.filter((l) => l.startsWith('ask'))).toHaveLength(2);
    expect(q.log.at(-1)).toBe('quit');
  });

  it('holds a second quit while the question is open instead of asking twice', async () => {
    const q = quitting(['web'], [0]);
    q.quit();
    expect(q.quit()).toBe(true);
    await settle();
    expect(q.log.filter((l) => l.startsWith('ask'))).toHaveLength(1);
  });

  it('says when the backend did not close cleanly, and quits anyway', async () => {
    const q = quitting([], [], new Error('socket gone'));
    q.quit();
    await settle();
    expect(q.log).toEqual(['close stopVms=false', 'error: Xray could not shut down cleanly: socket gone', 'quit']);
  });
});

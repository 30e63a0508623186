import { describe, expect, it } from 'vitest';
import type { XrayApi } from '../../../src-main/shared/contract';
import { performTrayAction, snapshotName, type Confirmation, type TrayActionDeps } from '../../../src-main/electron/tray-actions';
import type { TrayAction } from '../../../src-main/electron/tray-menu';
import type { WindowKind } from '../../../src-main/electron/window-options';
import { summary } from './fixtures';

/** Tray is a fake of what a click touches (the API, dialogs, clipboard, windows), recording what happened. */
function tray(answer: boolean) {
  const calls: [string, unknown][] = [];
  const asked: Confirmation[] = [];
  const copied: string[] = [];
  const shown: WindowKind[] = [];
  let quits = 0;
  const api = {
    call: (method: string, params: unknown) => {
      calls.push([method, params]);
      return Promise.resolve(null);
    },
    subscribe: () => () => undefined,
  } as unknown as XrayApi;
  const deps: TrayActionDeps = {
    api,
    vms: [{ summary: summary('web', { state: 'ready', sshPort: 2223 }), snapshots: ['clean'] }],
    sshKeyOf: (vm) => `/home/u/.xray/vms/${vm}/ssh/id_ed25519`,
    confirm: (question) => {
      asked.push(question);
      return Promise.resolve(answer);
    },
    copy: (text) => copied.push(text),
    showWindow: (kind) => shown.push(kind),
    quit: () => quits++,
    now: () => new Date(2025, 0, 2, 9, 5, 7),
  };
  return { deps, calls, asked, copied, shown, quits: () => quits };
}

describe('performTrayAction', () => {
  it.each<{ action: TrayAction; call: [string, unknown] }>([
    { action: { kind: 'vm.start', vm: 'web' }, call: ['vm.start', { name: 'web' }] },
    { action: { kind: 'vm.stop', vm: 'web' }, call: ['vm.stop', { name: 'web' }] },
    { action: { kind: 'snapshot.create', vm: 'web' }, call: ['snapshot.create', { vm: 'web', name: 'snap-20250102-090507' }] },
  ])('$action.kind calls the API at once', async ({ action, call }) => {
    const t = tray(false);
    await performTrayAction(action, t.deps);
    expect(t.calls).toEqual([call]);
    expect(t.asked).toEqual([]);
  });

  it.each<{ action: TrayAction; method: string; verb: string }>([
    { action: { kind: 'snapshot.revert', vm: 'web', snapshot: 'clean' }, method: 'snapshot.revert', verb: 'Revert' },
    { action: { kind: 'snapshot.delete', vm: 'web', snapshot: 'clean' }, method: 'snapshot.delete', verb: 'Delete' },
  ])('$method asks first, and does nothing when the user cancels', async ({ action, method, verb }) => {
    const cancelled = tray(false);
    await performTrayAction(action, cancelled.deps);
    expect(cancelled.asked).toHaveLength(1);
    expect(cancelled.asked[0]).toMatchObject({ verb });
    expect(cancelled.asked[0]?.message).toContain('"clean"');
    expect(cancelled.calls).toEqual([]);

    const confirmed = tray(true);
    await performTrayAction(action, confirmed.deps);
    expect(confirmed.calls).toEqual([[method, { vm: 'web', name: 'clean' }]]);
  });

  it('copies an ssh command for the VM with its key and port, and nothing for a VM the tray does not show', async () => {
    const t = tray(false);
    await performTrayAction({ kind: 'copy-ssh', vm: 'web' }, t.deps);
    expect(t.copied).toHaveLength(1);
    expect(t.copied[0]).toContain('/home/u/.xray/vms/web/ssh/id_ed25519');
    expect(t.copied[0]).toContain('2223');
    await performTrayAction({ kind: 'copy-ssh', vm: 'gone' }, t.deps);
    expect(t.copied).toHaveLength(1);
  });

  it('opens windows and quits without calling the API', async () => {
    const t = tray(false);
    for (const kind of ['open-main', 'open-prompts', 'open-settings', 'quit'] as const) await performTrayAction({ kind }, t.deps);
    expect(t.shown).toEqual(['main', 'prompt', 'settings']);
    expect(t.quits()).toBe(1);
    expect(t.calls).toEqual([]);
  });

  it('lets a failed call reject, for the main process to show', async () => {
    const t = tray(false);
    const failing = { ...t.deps, api: { call: () => Promise.reject(new Error('VM "web" is running')), subscribe: () => () => undefined } as unknown as XrayApi };
    await expect(performTrayAction({ kind: 'vm.start', vm: 'web' }, failing)).rejects.toThrow('VM "web" is running');
  });
});

describe('snapshotName', () => {
  it('names a tray snapshot by its local time, padded, so names sort by age', () => {
    expect(snapshotName(new Date(2025, 0, 2, 9, 5, 7))).toBe('snap-20250102-090507');
    expect(snapshotName(new Date(2025, 11, 31, 23, 59, 59))).toBe('snap-20251231-235959');
  });
});

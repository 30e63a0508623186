import { describe, expect, it } from 'vitest';
import type { XrayApi, XrayEvent } from '../../../src-main/shared/contract';
import { activeVmNames, loadTrayVms, PendingPrompts } from '../../../src-main/electron/tray-data';
import { summary } from './fixtures';

/** api fakes the backend's answers per method; a missing answer is a failed call. */
function api(answers: Record<string, (params: { vm?: string }) => unknown>): XrayApi {
  return {
    call: (method: string, params: { vm?: string }) => {
      const answer = answers[method];
      return answer ? new Promise((resolve) => resolve(answer(params))) : Promise.reject(new Error(`${method} failed`));
    },
    subscribe: () => () => undefined,
  } as unknown as XrayApi;
}

const opened = (id: string): XrayEvent => ({ type: 'prompt.opened', prompt: { id } } as unknown as XrayEvent);
const closed = (id: string): XrayEvent => ({ type: 'prompt.closed', id } as unknown as XrayEvent);

describe('loadTrayVms', () => {
  it('reads each VM with its snapshot names; a broken vm.toml or unreadable snapshots show none', async () => {
    const vms = await loadTrayVms(
      api({
        'vm.list': () => [summary('web'), summary('db'), summary('bad', { configError: 'vm.toml: key "memory" must be …' })],
        'snapshot.list': ({ vm }) => {
          if (vm === 'db') throw new Error('disk locked');
          return [{ name: 'clean' }, { name: 'before-upgrade' }];
        },
      }),
      [],
    );
    expect(vms.map((v) => [v.summary.name, v.snapshots])).toEqual([['web', ['clean', 'before-upgrade']], ['db', []], ['bad', []]]);
  });

  it('keeps showing the VMs it had when the list cannot be read', async () => {
    const previous = [{ summary: summary('web'), snapshots: ['clean'] }];
    const vms = await loadTrayVms(api({ 'snapshot.list': () => [{ name: 'clean' }] }), previous);
    expect(vms).toEqual(previous);
  });
});

describe('activeVmNames', () => {
  it('names the VMs that run or are on their way, from the API or else from the tray', async () => {
    const list = [summary('web', { state: 'ready' }), summary('db', { state: 'stopped' }), summary('ci', { state: 'booting' })];
    expect(await activeVmNames(api({ 'vm.list': () => list }), [])).toEqual(['web', 'ci']);
    expect(await activeVmNames(api({}), list.map((s) => ({ summary: s, snapshots: [] })))).toEqual(['web', 'ci']);
  });
});

describe('PendingPrompts', () => {
  it('shows the prompt window for a new prompt unless the main window has focus, and closes it after the last answer', () => {
    const prompts = new PendingPrompts();
    expect(prompts.apply(opened('a'), false)).toBe('show');
    expect(prompts.apply(opened('b'), true)).toBeNull();
    expect(prompts.size).toBe(2);
    expect(prompts.apply(closed('a'), false)).toBeNull();
    expect(prompts.apply(closed('b'), false)).toBe('close');
    expect(prompts.apply({ type: 'vm.removed', vm: 'web' } as XrayEvent, false)).toBeNull();
  });

  it('takes the waiting prompts from the API, and keeps those seen in events when it cannot list them', async () => {
    const prompts = new PendingPrompts();
    prompts.apply(opened('a'), false);
    await prompts.reload(api({}));
    expect(prompts.size).toBe(1);
    await prompts.reload(api({ 'prompt.list': () => [{ id: 'x' }, { id: 'y' }] }));
    expect(prompts.size).toBe(2);
    expect(prompts.apply(closed('a'), false)).toBeNull();
  });
});

// @vitest-environment jsdom
// Stopping from the app: Stop says how the stop ended, in the row and the
// header; Force stop asks first, and in a row takes Stop's place while a
// stop waits on the guest; a stop from elsewhere is said too.
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { VmStopResult } from '../../src-main/shared/models';
import { VmList } from '../../src-renderer/views/VmList';
import { VmDetail } from '../../src-renderer/views/vm/VmDetail';
import { FakeXrayClient, vm } from './fake-client';
import { renderWith } from './render';

afterEach(cleanup);

function stopped(name: string, stoppedBy: VmStopResult['stoppedBy']): VmStopResult {
  return { ...vm(name, { state: 'stopped' }), stoppedBy };
}

async function list(client: FakeXrayClient) {
  const r = renderWith(client, <VmList onCreate={() => undefined} />);
  await act(() => r.store.getState().load());
  return r;
}

async function detail(client: FakeXrayClient) {
  const r = renderWith(client, <VmDetail name="dev" />);
  await act(() => r.store.getState().load());
  return r;
}

describe('Stop', () => {
  it('says in the row how the stop ended: a guest that ignored the power button was shut down over SSH', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'ready' })] });
    client.on('vm.stop', ({ name }) => stopped(name, 'ssh'));
    await list(client);
    fireEvent.click(screen.getByRole('button', { name: 'Stop dev' }));
    const row = screen.getByText('dev').closest('tr')!;
    await waitFor(() => expect(within(row).getByRole('status').textContent).toBe('VM "dev" did not answer the power button; shut down over SSH.'));
    expect(client.callsOf('vm.stop')).toEqual([{ name: 'dev' }]);
  });

  it('says in the header when a stop had to kill the guest, and the next start clears it', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'ready' })] });
    client.on('vm.stop', ({ name }) => stopped(name, 'kill'));
    client.on('vm.start', ({ name }) => vm(name, { state: 'starting' }));
    await detail(client);
    fireEvent.click(screen.getByRole('button', { name: 'Stop' }));
    expect((await screen.findByTestId('stop-notice')).textContent).toBe('VM "dev" did not shut down when asked, so it was killed.');
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    await waitFor(() => expect(screen.queryByTestId('stop-notice')).toBeNull());
  });

  it('keeps showing "stopping" when a VM summary asked for earlier answers after the stop began', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'booting' })] });
    let answerInfo: () => void = () => undefined;
    client.on('vm.info', ({ name }) => new Promise((resolve) => (answerInfo = () => resolve({ summary: vm(name, { state: 'ready' }), config: {}, diskChain: [], snapshots: [], autoSnapshots: { enabled: false, fromDefault: true, keep: 5 } }))));
    client.on('vm.stop', () => new Promise<VmStopResult>(() => undefined));
    const { store } = await list(client);
    // "ready" makes the store ask for the VM's summary; Stop is pressed before the answer comes.
    act(() => store.getState().handleEvent({ type: 'vm.state', vm: 'dev', state: 'ready', previous: 'booting' }));
    fireEvent.click(screen.getByRole('button', { name: 'Stop dev' }));
    act(() => store.getState().handleEvent({ type: 'vm.state', vm: 'dev', state: 'stopping', previous: 'ready' }));
    await act(async () => answerInfo());
    expect(screen.getByTestId('state').textContent).toBe('stopping');
    expect(screen.getByRole('button', { name: 'Force stop dev' })).toBeTruthy();
  });

  it('says how a stop from elsewhere ended: the guest shut itself down', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'ready' })] });
    const { store } = await list(client);
    act(() => store.getState().handleEvent({ type: 'vm.state', vm: 'dev', state: 'stopped', previous: 'ready', stoppedBy: 'guest' }));
    expect(screen.getByRole('status').textContent).toBe('VM "dev" shut itself down.');
  });
});

describe('Force stop', () => {
  it('asks first; Cancel and Esc leave the VM running', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'ready' })] });
    await detail(client);
    fireEvent.click(screen.getByRole('button', { name: 'Force stop…' }));
    const dialog = screen.getByRole('alertdialog');
    expect(dialog.textContent).toContain('Force stop dev? Its QEMU is killed at once');
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Cancel' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Force stop…' }));
    fireEvent.keyDown(screen.getByRole('alertdialog'), { key: 'Escape' });
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(client.callsOf('vm.stop')).toEqual([]);
  });

  it('kills once confirmed and says it was killed, not that the guest failed to shut down', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'ready' })] });
    client.on('vm.stop', ({ name }) => stopped(name, 'kill'));
    await detail(client);
    fireEvent.click(screen.getByRole('button', { name: 'Force stop…' }));
    fireEvent.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Force stop' }));
    expect((await screen.findByTestId('stop-notice')).textContent).toBe('VM "dev" was killed.');
    expect(client.callsOf('vm.stop')).toEqual([{ name: 'dev', force: true }]);
  });

  it('takes Stop\'s place in a row while a stop waits on the guest, and its event already says "killed"', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'ready' })] });
    let finishGentle: (result: VmStopResult) => void = () => undefined;
    client.on('vm.stop', ({ name, force }) => (force ? stopped(name, 'kill') : new Promise<VmStopResult>((resolve) => (finishGentle = resolve))));
    const { store } = await list(client);
    fireEvent.click(screen.getByRole('button', { name: 'Stop dev' }));
    act(() => store.getState().handleEvent({ type: 'vm.state', vm: 'dev', state: 'stopping', previous: 'ready' }));
    expect(screen.queryByRole('button', { name: 'Stop dev' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Force stop dev' }));
    fireEvent.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Force stop' }));
    // The stopped event may come before either reply: it is worded for the force stop already.
    act(() => store.getState().handleEvent({ type: 'vm.state', vm: 'dev', state: 'stopped', previous: 'stopping', stoppedBy: 'kill' }));
    expect(screen.getByRole('status').textContent).toBe('VM "dev" was killed.');
    await act(async () => finishGentle(stopped('dev', 'kill')));
    await waitFor(() => expect(client.callsOf('vm.stop')).toEqual([{ name: 'dev' }, { name: 'dev', force: true }]));
    expect(screen.getByRole('status').textContent).toBe('VM "dev" was killed.');
  });
});

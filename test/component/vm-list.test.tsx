// @vitest-environment jsdom
// The VM list: rows, start/stop in place, empty state, and cheap updates with 500 VMs.
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { VmList } from '../../src-renderer/views/VmList';
import { FakeXrayClient, base, vm } from './fake-client';
import { renderWith } from './render';

afterEach(cleanup);

describe('VmList', () => {
  it('shows each VM with status, base, resources, SSH port, ports and live connections', async () => {
    const client = new FakeXrayClient({ vms: [vm('web', { state: 'ready', ports: [{ host: 8080, guest: 80 }], openConnections: 3, sshPort: 2201 })] });
    const { store } = renderWith(client, <VmList onCreate={() => undefined} />);
    await act(() => store.getState().load());
    const row = screen.getByText('web').closest('tr')!;
    expect(within(row).getByTestId('state').textContent).toBe('running');
    expect(row.textContent).toContain('debian');
    expect(row.textContent).toContain('2 CPU · 2048 MB');
    expect(row.textContent).toContain('2201');
    expect(row.textContent).toContain('8080→80');
    expect(row.textContent).toContain('3');
  });

  it('starts a stopped VM and stops a running one from its row', async () => {
    const client = new FakeXrayClient({ vms: [vm('a'), vm('b', { state: 'ready' })] });
    client.on('vm.start', ({ name }) => vm(name, { state: 'starting' }));
    client.on('vm.stop', ({ name }) => ({ ...vm(name, { state: 'stopped' }), stoppedBy: 'power-button' }));
    const { store } = renderWith(client, <VmList onCreate={() => undefined} />);
    await act(() => store.getState().load());
    fireEvent.click(screen.getByRole('button', { name: 'Start a' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Stop a' })).toBeTruthy());
    fireEvent.click(screen.getByRole('button', { name: 'Stop b' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Start b' })).toBeTruthy());
    expect(client.callsOf('vm.start')).toEqual([{ name: 'a' }]);
    expect(client.callsOf('vm.stop')).toEqual([{ name: 'b' }]);
  });

  it('shows why a start failed in the row', async () => {
    const client = new FakeXrayClient({ vms: [vm('a')] });
    client.on('vm.start', () => {
      throw new Error('Port 2222 is in use; pick another SSH port.');
    });
    const { store } = renderWith(client, <VmList onCreate={() => undefined} />);
    await act(() => store.getState().load());
    fireEvent.click(screen.getByRole('button', { name: 'Start a' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Port 2222 is in use; pick another SSH port.');
  });

  it('tells a new user to get or drop a base image first, and to create a VM once there is one', async () => {
    const client = new FakeXrayClient();
    const { store } = renderWith(client, <VmList onCreate={() => undefined} />);
    await act(() => store.getState().load());
    expect(screen.getByText(/A VM starts from a base image/)).toBeTruthy();
    client.on('base.list', () => [base('debian')]);
    await act(() => store.getState().refreshBases());
    expect(screen.getByText(/Create your first VM/)).toBeTruthy();
  });

  it('moves between rows with the arrow keys and opens one with Enter', async () => {
    const client = new FakeXrayClient({ vms: [vm('a'), vm('b')] });
    const { store, container } = renderWith(client, <VmList onCreate={() => undefined} />);
    await act(() => store.getState().load());
    const rows = container.querySelectorAll<HTMLElement>('tr[data-vm]');
    rows[0]!.focus();
    fireEvent.keyDown(rows[0]!, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(rows[1]);
    fireEvent.keyDown(rows[1]!, { key: 'Enter' });
    expect(store.getState().view).toEqual({ kind: 'vm', name: 'b' });
  });

  it('renders 500 VMs, and a state change to one leaves the other rows untouched', async () => {
    const client = new FakeXrayClient({ vms: Array.from({ length: 500 }, (_, i) => vm(`vm-${String(i).padStart(3, '0')}`)) });
    const { store, container } = renderWith(client, <VmList onCreate={() => undefined} />);
    await act(() => store.getState().load());
    expect(container.querySelectorAll('tr[data-vm]')).toHaveLength(500);
    const untouched = container.querySelector('tr[data-vm="vm-001"]');
    act(() => store.getState().handleEvent({ type: 'vm.state', vm: 'vm-250', state: 'starting', previous: 'stopped' }));
    expect(container.querySelector('tr[data-vm="vm-250"] [data-testid="state"]')!.textContent).toBe('starting');
    expect(container.querySelector('tr[data-vm="vm-001"]')).toBe(untouched);
  });
});

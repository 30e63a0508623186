// @vitest-environment jsdom
// The timeline tab's snapshots: time order, memory vs disk marking, confirmation, progress.
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotInfo } from '../../src-main/shared/models';
import { TimelineTab } from '../../src-renderer/views/vm/TimelineTab';
import { FakeXrayClient, vm } from './fake-client';
import { renderWith } from './render';

afterEach(cleanup);

const snaps: SnapshotInfo[] = [
  { name: 'late', date: '2025-03-01 12:00:00', vmStateSize: 300 * 1024 ** 2, hasMemory: true, description: 'after upgrade' },
  { name: 'early', date: '2025-01-01 08:00:00', vmStateSize: 0, hasMemory: false, description: null },
  { name: 'middle', date: '2025-02-01T09:00:00Z', vmStateSize: 0, hasMemory: false, description: null },
];

async function timeline(client = new FakeXrayClient({ vms: [vm('dev')], snapshots: snaps })) {
  const r = renderWith(client, <TimelineTab vm="dev" />);
  await act(async () => {
    await r.store.getState().load();
    await r.store.getState().refreshSnapshots('dev');
  });
  await screen.findByRole('region', { name: 'Timeline, oldest first' });
  return { ...r, client };
}

describe('SnapshotsTab', () => {
  it('lists snapshots oldest first and marks memory snapshots apart from disk-only ones', async () => {
    const { container } = await timeline();
    const items = [...container.querySelectorAll('li[data-snapshot]')];
    expect(items.map((li) => li.getAttribute('data-snapshot'))).toEqual(['early', 'middle', 'late']);
    expect(items.map((li) => (li.classList.contains('memory') ? 'memory' : li.classList.contains('disk') ? 'disk' : li.className))).toEqual(['disk', 'disk', 'memory']);
    expect(items[2]!.textContent).toContain('memory · 300 MiB');
    expect(items[0]!.textContent).toContain('disk only');
  });

  it('asks before reverting and reverts only after confirming', async () => {
    const { client } = await timeline();
    client.on('snapshot.revert', () => null);
    fireEvent.click(screen.getByRole('button', { name: 'Revert to middle' }));
    expect(screen.getByRole('alertdialog').textContent).toContain('Revert dev to “middle”? Changes made since then are lost.');
    expect(client.callsOf('snapshot.revert')).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Revert to middle' }));
    fireEvent.click(screen.getByRole('button', { name: 'Revert' }));
    await waitFor(() => expect(client.callsOf('snapshot.revert')).toEqual([{ vm: 'dev', name: 'middle' }]));
  });

  it('asks before deleting', async () => {
    const { client } = await timeline();
    client.on('snapshot.delete', () => null);
    fireEvent.click(screen.getByRole('button', { name: 'Delete early' }));
    expect(screen.getByRole('alertdialog').textContent).toContain('Delete snapshot “early” of dev? This cannot be undone.');
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(client.callsOf('snapshot.delete')).toEqual([{ vm: 'dev', name: 'early' }]));
  });

  it('shows progress while a snapshot is taken, then the new entry', async () => {
    let finish: () => void = () => undefined;
    const { client } = await timeline();
    client.on('snapshot.create', (p) => new Promise((resolve) => {
      finish = () => resolve({ name: p.name, date: '2025-04-01 00:00:00', vmStateSize: 0, hasMemory: false, description: null });
    }));
    fireEvent.change(screen.getByLabelText('Snapshot name'), { target: { value: 'newest' } });
    fireEvent.click(screen.getByRole('button', { name: 'Take snapshot' }));
    expect((await screen.findByRole('status')).textContent).toContain('Taking snapshot “newest”');
    expect((screen.getByRole('button', { name: 'Revert to late' }) as HTMLButtonElement).disabled).toBe(true);
    client.on('snapshot.list', () => [...snaps, { name: 'newest', date: '2025-04-01 00:00:00', vmStateSize: 0, hasMemory: false, description: null }]);
    await act(async () => finish());
    await waitFor(() => expect(screen.queryByRole('status')).toBeNull());
    expect(screen.getByRole('button', { name: 'Revert to newest' })).toBeTruthy();
  });

  it('refuses an invalid snapshot name before sending it', async () => {
    await timeline();
    fireEvent.change(screen.getByLabelText('Snapshot name'), { target: { value: 'bad name' } });
    expect(screen.getByText('The name contains white space.')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Take snapshot' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('shows a failed snapshot\'s reason and an empty state', async () => {
    const { client } = await timeline(new FakeXrayClient({ vms: [vm('dev')], snapshots: [] }));
    expect(screen.getByText(/No snapshots yet/)).toBeTruthy();
    client.on('snapshot.create', () => {
      throw new Error('The disk of VM "dev" does not support snapshots.');
    });
    fireEvent.change(screen.getByLabelText('Snapshot name'), { target: { value: 's1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Take snapshot' }));
    expect((await screen.findByRole('alert')).textContent).toBe('The disk of VM "dev" does not support snapshots.');
  });
});

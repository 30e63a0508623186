// @vitest-environment jsdom
// What a running VM shows live: its open connections in the Firewall tab
// (followed while shown, updated by events, ages that grow), and in the
// Overview, the ports its guest listens on beside its forwards.
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GuestListener, OpenConnection } from '../../src-main/shared/live';
import { CONNECTIONS_FOLLOW_MS } from '../../src-main/shared/live';
import { FirewallTab } from '../../src-renderer/views/vm/FirewallTab';
import { VmDetail } from '../../src-renderer/views/vm/VmDetail';
import { FakeXrayClient, vm } from './fake-client';
import { renderWith } from './render';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const connection = (id: number, over: Partial<OpenConnection> = {}): OpenConnection => ({
  id,
  destination: { ip: '198.18.0.10', port: 443, name: 'api.example.test', nameSource: 'sni', service: 'https' },
  state: 'relaying',
  bytesUp: 1200,
  bytesDown: 2048,
  openedAt: new Date(Date.now() - 65_000).toISOString(),
  reason: 'rule *.example.test',
  rule: '*.example.test',
  ...over,
});

async function show(client: FakeXrayClient, ui: React.ReactElement) {
  const r = renderWith(client, ui);
  await act(async () => {
    await r.store.getState().load();
  });
  return r;
}

const rows = () => [...document.querySelectorAll('tr[data-connection]')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));

describe('open connections in the Firewall tab', () => {
  it('follows them while shown, with bytes, age and what allowed them, and updates from events', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'ready' })] });
    client.on('firewall.connections', () => [connection(1)]);
    await show(client, <FirewallTab vm="dev" />);
    await waitFor(() => expect(rows()).toEqual([['api.example.test:443', 'open', '1.2 KiB', '2.0 KiB', '1 min 5 s', 'rule *.example.test']]));
    expect(client.callsOf('firewall.connections')).toEqual([{ vm: 'dev', follow: true }]);

    act(() => client.emit({ type: 'firewall.connections', vm: 'dev', connections: [connection(1, { bytesDown: 5 * 1024 * 1024 }), connection(2, { state: 'deciding', reason: null, rule: null, destination: { ip: '198.18.0.11', port: 80, name: null, nameSource: null, service: 'http' } })] }));
    expect(rows()).toEqual([
      ['api.example.test:443', 'open', '1.2 KiB', '5.0 MiB', '1 min 5 s', 'rule *.example.test'],
      ['198.18.0.11:80', 'waiting for a decision', '1.2 KiB', '2.0 KiB', '1 min 5 s', '—'],
    ]);
    act(() => client.emit({ type: 'firewall.connections', vm: 'other', connections: [] }));
    expect(rows()).toHaveLength(2);
    act(() => client.emit({ type: 'firewall.connections', vm: 'dev', connections: [] }));
    expect(screen.getByText('Nothing is open right now.')).toBeTruthy();
  });

  it('asks to follow again before the supervisor stops announcing, and stops asking once it is gone', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'ready' })] });
    const { unmount } = await show(client, <FirewallTab vm="dev" />);
    await waitFor(() => expect(client.callsOf('firewall.connections')).toHaveLength(1));
    await act(async () => {
      vi.advanceTimersByTime(CONNECTIONS_FOLLOW_MS / 2);
    });
    expect(client.callsOf('firewall.connections')).toHaveLength(2);
    unmount();
    vi.advanceTimersByTime(CONNECTIONS_FOLLOW_MS);
    expect(client.callsOf('firewall.connections')).toHaveLength(2);
  });

  it('asks nothing of a stopped VM', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    await show(client, <FirewallTab vm="dev" />);
    expect(screen.getByText('The VM is not running, so nothing is open.')).toBeTruthy();
    expect(client.callsOf('firewall.connections')).toEqual([]);
  });
});

describe('guest ports in the Overview', () => {
  const listeners: GuestListener[] = [
    { port: 22, addresses: ['0.0.0.0', '::'], program: 'sshd', reachable: true },
    { port: 631, addresses: ['127.0.0.1'], program: 'cupsd', reachable: false },
    { port: 8000, addresses: ['0.0.0.0'], program: 'python3', reachable: true },
    { port: 9000, addresses: ['0.0.0.0'], program: null, reachable: true },
  ];

  it('tags each forward with what listens behind it, lists the guest ports, and offers to forward one live', async () => {
    let ports = [{ host: 18000, guest: 8000 }, { host: 18001, guest: 7000 }];
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'ready', ports })] });
    client.on('port.listening', () => listeners);
    client.on('vm.info', () => ({ summary: vm('dev', { state: 'ready', ports }), config: {}, diskChain: [], snapshots: [], autoSnapshots: { enabled: false, fromDefault: true, keep: 5 } }));
    client.on('port.add', ({ mapping }) => {
      ports = [...ports, mapping];
      return { ports, live: true };
    });
    await show(client, <VmDetail name="dev" />);
    const list = await screen.findByRole('list', { name: 'Listening in guest' });
    expect([...list.querySelectorAll('li')].map((li) => li.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      '22 sshd on 0.0.0.0, :: ← 127.0.0.1:2222 (SSH)',
      '631 cupsd on 127.0.0.1 (loopback only: a forward cannot reach it)',
      '8000 python3 on 0.0.0.0 ← 127.0.0.1:18000',
      '9000 on 0.0.0.0 forward…',
    ]);
    expect(screen.getByText('listening · python3')).toBeTruthy();
    expect(screen.getByText('nothing listening')).toBeTruthy();

    fireEvent.click(within(list).getByRole('button', { name: 'Forward guest port 9000' }));
    const field = screen.getByLabelText('New port') as HTMLInputElement;
    expect(field.value).toBe('9000:9000');
    expect(document.activeElement).toBe(field);
    fireEvent.change(field, { target: { value: '19000:9000' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add port' }));
    expect(await screen.findByText('Forwarding 127.0.0.1:19000 to guest port 9000.')).toBeTruthy();
    expect(client.callsOf('port.add')).toEqual([{ vm: 'dev', mapping: { host: 19000, guest: 9000 } }]);
  });

  it('says a stopped VM is asked nothing, and that a forward added waits for the next start', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    client.on('port.add', ({ mapping }) => ({ ports: [mapping], live: false }));
    await show(client, <VmDetail name="dev" />);
    expect(screen.getByText('Which ports the guest listens on shows while the VM is running.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('New port'), { target: { value: '8080:80' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add port' }));
    expect(await screen.findByText('Forwarding 127.0.0.1:8080 to guest port 80 from the next start.')).toBeTruthy();
    expect(client.callsOf('port.listening')).toEqual([]);
  });

  it("shows the guest's refusal in place", async () => {
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'ready' })] });
    client.on('port.listening', () => {
      throw new Error('VM "dev" could not list its listening ports ("ss" exited with 127); install iproute2 in the guest.');
    });
    await show(client, <VmDetail name="dev" />);
    expect(await screen.findByText(/install iproute2 in the guest/)).toBeTruthy();
  });
});

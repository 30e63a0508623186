// @vitest-environment jsdom
// The VM detail: tabs, settings editable only when stopped, unsupported methods shown in place, and why a
// booting guest does not answer. The client is a fake of the Electron bridge (FakeXrayClient).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { VM_LIMITS } from '../../src-main/shared/vm';
import { diagnoseBoot } from '../../src-main/core/supervisor/boot-diagnosis';
import { VmList } from '../../src-renderer/views/VmList';
import { VmDetail } from '../../src-renderer/views/vm/VmDetail';
import { FakeXrayClient, vm } from './fake-client';
import { renderWith } from './render';

afterEach(cleanup);

// A stand-in for what jsdom lacks and xterm.js (the Console tab) asks for: the
// device pixel ratio through matchMedia. The real terminal is tested in
// Chromium (test/e2e/console.test.ts).
window.matchMedia ??= ((media: string) => ({
  matches: false,
  media,
  onchange: null,
  addEventListener: () => undefined,
  removeEventListener: () => undefined,
  addListener: () => undefined,
  removeListener: () => undefined,
  dispatchEvent: () => false,
})) as typeof window.matchMedia;

async function detail(client: FakeXrayClient) {
  const r = renderWith(client, <VmDetail name="dev" />);
  await act(async () => {
    await r.store.getState().load();
    await r.store.getState().loadDetail('dev');
  });
  return r;
}

describe('VmDetail', () => {
  it('saves changed settings of a stopped VM', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    client.on('vm.update', (p) => vm('dev', { memoryMb: p.memoryMb, cpus: p.cpus }));
    await detail(client);
    fireEvent.change(screen.getByLabelText('Memory (MB)'), { target: { value: '4096' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(client.callsOf('vm.update')).toEqual([{ name: 'dev', memoryMb: 4096, cpus: 2, sshUser: 'ubuntu' }]));
  });

  it('refuses more CPUs than the contract allows, in its words, before sending them', async () => {
    await detail(new FakeXrayClient({ vms: [vm('dev')] }));
    fireEvent.change(screen.getByLabelText('CPUs'), { target: { value: String(VM_LIMITS.cpus.max + 1) } });
    expect(screen.getByText(`A VM can have at most ${VM_LIMITS.cpus.max} CPUs.`)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Save' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('refuses an empty SSH user in the contract\'s words', async () => {
    await detail(new FakeXrayClient({ vms: [vm('dev')] }));
    fireEvent.change(screen.getByLabelText('SSH user'), { target: { value: '' } });
    expect(screen.getByText('The SSH user is empty.')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Save' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('forwards a new port through the API and shows it', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    client.on('port.add', ({ mapping }) => {
      client.on('vm.info', () => ({ summary: vm('dev', { ports: [mapping] }), config: {}, diskChain: [], snapshots: [], autoSnapshots: { enabled: false, fromDefault: true, keep: 5 } }));
      return { ports: [mapping], live: false };
    });
    await detail(client);
    fireEvent.change(screen.getByLabelText('New port'), { target: { value: '8080:80' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add port' }));
    expect(await screen.findByRole('button', { name: 'Remove port 8080' })).toBeTruthy();
    expect(client.callsOf('port.add')).toEqual([{ vm: 'dev', mapping: { host: 8080, guest: 80 } }]);
  });

  it('locks settings while the VM runs', async () => {
    await detail(new FakeXrayClient({ vms: [vm('dev', { state: 'ready' })] }));
    expect((screen.getByLabelText('Memory (MB)') as HTMLInputElement).disabled).toBe(true);
    expect(screen.queryByRole('button', { name: 'Save' })).toBeNull();
    expect(screen.getByText('Stop the VM to change its memory, CPUs or SSH user.')).toBeTruthy();
  });

  it('shows an unsupported method\'s error in its tab without breaking the others', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    client.on('firewall.rules', () => {
      throw new Error('"firewall.rules" is not available in this version of Xray.');
    });
    await detail(client);
    fireEvent.click(screen.getByRole('tab', { name: 'Firewall' }));
    expect(screen.getByText('"firewall.rules" is not available in this version of Xray.')).toBeTruthy();
    expect(screen.getByText('No connections yet.')).toBeTruthy();
    fireEvent.click(screen.getByRole('tab', { name: 'Hooks' }));
    expect(screen.getByText('"hooks.list" is not available in this version of Xray.')).toBeTruthy();
  });

  it('shows live connections as they arrive', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'ready' })] });
    await detail(client);
    fireEvent.click(screen.getByRole('tab', { name: 'Firewall' }));
    act(() =>
      client.emit({
        type: 'firewall.connection',
        entry: { at: '2025-01-01T00:00:00Z', vm: 'dev', kind: 'connection', destination: { ip: '1.2.3.4', port: 443, name: 'deb.debian.org', nameSource: 'sni', service: 'https' }, bytesUp: 100, bytesDown: 2048 },
      }),
    );
    expect(screen.getByText('deb.debian.org:443')).toBeTruthy();
  });

  it('offers plugin commands as actions on the VM and shows what they print', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev')] });
    client.on('plugin.list', () => [
      { name: 'hello', file: '/x/plugins/hello.mjs', commands: [{ name: 'uptime', description: 'Show how long a VM has been up', risky: false }], hooks: ['boot'], error: null },
      { name: 'broken', file: '/x/plugins/broken.mjs', commands: [{ name: 'never', description: 'not loaded', risky: false }], hooks: [], error: 'SyntaxError' },
    ]);
    client.on('plugin.run', (p) => ({ output: `${(p.args ?? []).join(' ')}: up 3 minutes\n` }));
    await detail(client);
    fireEvent.click(screen.getByRole('tab', { name: 'Hooks' }));
    const button = await screen.findByRole('button', { name: 'hello: uptime' });
    expect(screen.queryByRole('button', { name: 'broken: never' })).toBeNull();
    fireEvent.click(button);
    expect((await screen.findByLabelText('Output of hello uptime')).textContent).toBe('dev: up 3 minutes');
    expect(client.callsOf('plugin.run')).toEqual([{ plugin: 'hello', command: 'uptime', args: ['dev'] }]);
  });

  it('moves between tabs with the arrow keys', async () => {
    await detail(new FakeXrayClient({ vms: [vm('dev')] }));
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Overview' }), { key: 'ArrowRight' });
    expect(screen.getByRole('tab', { name: 'Timeline' }).getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Timeline' }), { key: 'ArrowLeft' });
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Overview' }), { key: 'ArrowLeft' });
    expect(screen.getByRole('tab', { name: 'Console' }).getAttribute('aria-selected')).toBe('true');
  });
});

describe('a booting VM that does not let Xray log in', () => {
  // The diagnosis the supervisor makes from the console of a real boot whose kernel panicked (test/fixtures/boot-consoles/).
  const diagnosis = diagnoseBoot({
    vm: 'dev', user: 'ubuntu', cloudInit: true, budgetSeconds: 600, sshBanner: null, keyRefused: false, loginError: null,
    console: readFileSync(join(process.cwd(), 'test', 'fixtures', 'boot-consoles', 'kernel-panic.log'), 'utf8'),
  });

  it('shows why in the list and in its view, with the end of its console, until its state changes', async () => {
    const client = new FakeXrayClient({ vms: [vm('dev', { state: 'booting' })] });
    const { store } = renderWith(client, <><VmList onCreate={() => undefined} /><VmDetail name="dev" /></>);
    await act(async () => {
      await store.getState().load();
      await store.getState().loadDetail('dev');
    });
    expect(screen.queryByTestId('diagnosis')).toBeNull();
    act(() => client.emit({ type: 'vm.diagnosis', vm: 'dev', diagnosis }));
    expect(screen.getByTestId('diagnosis').textContent).toBe(diagnosis.message);
    const alert = screen.getAllByRole('alert').find((a) => a.classList.contains('diagnosis'))!;
    expect(alert.textContent).toContain('The kernel of VM "dev" panicked ("VFS: Unable to mount root fs on unknown-block(0,0)")');
    expect(within(alert).getByLabelText('End of the console').textContent).toContain('end Kernel panic');
    expect(screen.getByTestId('detail-state').className).toContain('state-stuck');
    act(() => client.emit({ type: 'vm.state', vm: 'dev', state: 'ready', previous: 'booting' }));
    expect(screen.queryByTestId('diagnosis')).toBeNull();
    expect(screen.getByTestId('detail-state').className).not.toContain('state-stuck');
  });
});

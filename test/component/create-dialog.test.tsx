// @vitest-environment jsdom
// The New VM dialog validates as you type with the core's name rules.
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nameProblem } from '../../src-main/shared/names';
import { CreateDialog } from '../../src-renderer/views/CreateDialog';
import { FakeXrayClient, base, vm } from './fake-client';
import { renderWith } from './render';

afterEach(cleanup);

async function open(client: FakeXrayClient, onClose = vi.fn()) {
  const r = renderWith(client, <CreateDialog onClose={onClose} />);
  await act(() => r.store.getState().load());
  return { ...r, onClose, name: screen.getByLabelText('Name') as HTMLInputElement, create: screen.getByRole('button', { name: 'Create' }) as HTMLButtonElement };
}

describe('CreateDialog', () => {
  it.each(['-dash', '.dot', 'has space', 'a/b', 'x'.repeat(64), 'ünïcode'])('refuses the name %j as it is typed, with the core\'s reason', async (bad) => {
    const { name, create } = await open(new FakeXrayClient({ bases: [base('debian')] }));
    fireEvent.change(name, { target: { value: bad } });
    expect(screen.getByRole('alert').textContent).toBe(`The name ${nameProblem(bad)}.`);
    expect(create.disabled).toBe(true);
  });

  it('refuses a name already taken and accepts a good one', async () => {
    const { name, create } = await open(new FakeXrayClient({ bases: [base('debian')], vms: [vm('web')] }));
    fireEvent.change(name, { target: { value: 'web' } });
    expect(screen.getByRole('alert').textContent).toBe('A VM named "web" already exists.');
    fireEvent.change(name, { target: { value: 'web-2' } });
    expect(screen.queryByRole('alert')).toBeNull();
    expect(create.disabled).toBe(false);
  });

  it('checks memory, CPUs and ports', async () => {
    const { name, create } = await open(new FakeXrayClient({ bases: [base('debian')] }));
    fireEvent.change(name, { target: { value: 'dev' } });
    fireEvent.change(screen.getByLabelText('Memory (MB)'), { target: { value: '64' } });
    expect(screen.getByText('Memory must be a whole number of MB, at least 128.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Memory (MB)'), { target: { value: '1024' } });
    fireEvent.change(screen.getByLabelText(/Forwarded ports/), { target: { value: '8080:80, 99999:1' } });
    expect(screen.getByText('"99999:1" is not HOST:GUEST with ports from 1 to 65535.')).toBeTruthy();
    expect(create.disabled).toBe(true);
  });

  it('creates the VM on the picked base with the typed settings, then opens it', async () => {
    const client = new FakeXrayClient({ bases: [base('debian'), base('ubuntu')] });
    client.on('vm.create', (p) => vm(p.name, { base: p.base }));
    const { name, store, onClose } = await open(client);
    fireEvent.change(name, { target: { value: 'dev' } });
    fireEvent.change(screen.getByLabelText('Base image'), { target: { value: 'ubuntu' } });
    fireEvent.change(screen.getByLabelText('CPUs'), { target: { value: '4' } });
    fireEvent.change(screen.getByLabelText(/Forwarded ports/), { target: { value: '8080:80' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(client.callsOf('vm.create')).toEqual([{ name: 'dev', base: 'ubuntu', memoryMb: 2048, cpus: 4, ports: [{ host: 8080, guest: 80 }] }]);
    expect(store.getState().view).toEqual({ kind: 'vm', name: 'dev' });
  });

  it('shows the service\'s refusal in the dialog', async () => {
    const client = new FakeXrayClient({ bases: [base('debian')] });
    client.on('vm.create', () => {
      throw new Error('Not enough disk space to create VM "dev".');
    });
    const { name } = await open(client);
    fireEvent.change(name, { target: { value: 'dev' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Not enough disk space to create VM "dev".');
  });

  it('points to importing a base when there is none', async () => {
    await open(new FakeXrayClient());
    expect(screen.getByText(/There are no base images yet/)).toBeTruthy();
  });
});

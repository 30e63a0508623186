// @vitest-environment jsdom
// The New VM dialog: this host's defaults prefilled, and every field checked
// as it is typed by the rules the service applies (the core's name rules, the
// contract's limits, the shared HOST:GUEST rule), in their words.
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CallError } from '../../src-main/shared/transport';
import { nameProblem } from '../../src-main/shared/names';
import { VM_LIMITS, portMappingProblem } from '../../src-main/shared/vm';
import { CreateDialog } from '../../src-renderer/views/CreateDialog';
import { FakeXrayClient, base, vm } from './fake-client';
import { renderWith } from './render';

afterEach(cleanup);

async function open(client: FakeXrayClient, onClose = vi.fn()) {
  const r = renderWith(client, <CreateDialog initialBase={null} onClose={onClose} />);
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

  it('prefills memory, CPUs and SSH user with what this host gives a new VM', async () => {
    const client = new FakeXrayClient({ bases: [base('debian')] });
    client.on('vm.defaults', () => ({ memoryMb: 1536, cpus: 1, sshUser: 'debian' }));
    await open(client);
    await waitFor(() => expect((screen.getByLabelText('Memory (MB)') as HTMLInputElement).value).toBe('1536'));
    expect((screen.getByLabelText('CPUs') as HTMLInputElement).value).toBe('1');
    expect((screen.getByLabelText('SSH user') as HTMLInputElement).value).toBe('debian');
  });

  it('refuses memory below the contract\'s limit in the contract\'s words', async () => {
    const { name, create } = await open(new FakeXrayClient({ bases: [base('debian')] }));
    fireEvent.change(name, { target: { value: 'dev' } });
    fireEvent.change(screen.getByLabelText('Memory (MB)'), { target: { value: String(VM_LIMITS.memoryMb.min - 1) } });
    expect(screen.getByText(`A VM needs at least ${VM_LIMITS.memoryMb.min} MB of memory.`)).toBeTruthy();
    expect(create.disabled).toBe(true);
  });

  it('refuses more CPUs than the contract allows in the contract\'s words', async () => {
    const { name, create } = await open(new FakeXrayClient({ bases: [base('debian')] }));
    fireEvent.change(name, { target: { value: 'dev' } });
    fireEvent.change(screen.getByLabelText('CPUs'), { target: { value: String(VM_LIMITS.cpus.max + 1) } });
    expect(screen.getByText(`A VM can have at most ${VM_LIMITS.cpus.max} CPUs.`)).toBeTruthy();
    expect(create.disabled).toBe(true);
  });

  it('refuses a forwarded port that is not HOST:GUEST with the shared rule\'s sentence', async () => {
    const { name, create } = await open(new FakeXrayClient({ bases: [base('debian')] }));
    fireEvent.change(name, { target: { value: 'dev' } });
    fireEvent.change(screen.getByLabelText(/Forwarded ports/), { target: { value: '8080:80, 99999:1' } });
    expect(screen.getByText(portMappingProblem('99999:1'))).toBeTruthy();
    expect(create.disabled).toBe(true);
  });

  it('leaves a setting the user emptied to Xray', async () => {
    const client = new FakeXrayClient({ bases: [base('debian')] });
    client.on('vm.create', (p) => vm(p.name));
    const { name, onClose } = await open(client);
    fireEvent.change(name, { target: { value: 'dev' } });
    fireEvent.change(await screen.findByDisplayValue('2048'), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(client.callsOf('vm.create')).toEqual([{ name: 'dev', base: 'debian', memoryMb: undefined, cpus: 2, sshUser: 'ubuntu', ports: [] }]);
  });

  it('creates with Xray\'s own defaults when it cannot say what they are', async () => {
    const client = new FakeXrayClient({ bases: [base('debian')] });
    client.on('vm.defaults', () => {
      throw new CallError('unsupported', '"vm.defaults" is not available in this version of Xray.');
    });
    client.on('vm.create', (p) => vm(p.name));
    const { name, onClose } = await open(client);
    expect((screen.getByLabelText('Memory (MB)') as HTMLInputElement).value).toBe('');
    fireEvent.change(name, { target: { value: 'dev' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(client.callsOf('vm.create')).toEqual([{ name: 'dev', base: 'debian', memoryMb: undefined, cpus: undefined, sshUser: undefined, ports: [] }]);
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
    expect(client.callsOf('vm.create')).toEqual([{ name: 'dev', base: 'ubuntu', memoryMb: 2048, cpus: 4, sshUser: 'ubuntu', ports: [{ host: 8080, guest: 80 }] }]);
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

// @vitest-environment jsdom
// The Shares tab: a VM's shared folders, adding one (guest path checked as
// typed), removing one, the service's refusal in place, and when a change is seen.
import { act, cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Share } from '../../src-main/shared/models';
import { CallError } from '../../src-main/shared/transport';
import { SharesTab } from '../../src-renderer/views/vm/SharesTab';
import { FakeXrayClient, vm } from './fake-client';
import { renderWith } from './render';

afterEach(cleanup);

/** sharingClient answers share.* from a list it keeps, as vm.toml would. */
function sharingClient(state: 'stopped' | 'ready', initial: Share[] = []): FakeXrayClient {
  let shares = [...initial];
  const client = new FakeXrayClient({ vms: [vm('dev', { state })] });
  client.on('share.list', () => shares);
  client.on('share.add', ({ hostPath, guestPath, readOnly }) => {
    if (hostPath === '/') throw new CallError('invalid-argument', '/ cannot be shared: it would give the VM every file on this computer; share a project folder instead.');
    const share = { hostPath, guestPath: guestPath ?? hostPath, readOnly: readOnly ?? false };
    shares = [...shares, share];
    return { share, vmRunning: state === 'ready' };
  });
  client.on('share.remove', ({ path }) => {
    const share = shares.find((s) => s.guestPath === path)!;
    shares = shares.filter((s) => s !== share);
    return { share, vmRunning: state === 'ready' };
  });
  return client;
}

async function sharesTab(client: FakeXrayClient) {
  const r = renderWith(client, <SharesTab vm="dev" />);
  await act(async () => {
    await r.store.getState().load();
    await r.store.getState().loadDetail('dev');
  });
  return r;
}

const rows = () => [...document.querySelectorAll('table[aria-label="Shared folders"] tbody tr')].map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent));
const field = (label: string) => screen.getByLabelText(label) as HTMLInputElement;

describe('SharesTab', () => {
  it('lists the shares, adds one with its guest path and read-only, and removes one', async () => {
    const client = sharingClient('stopped', [{ hostPath: '/Users/me/src/app', guestPath: '/Users/me/src/app', readOnly: false }]);
    await sharesTab(client);
    expect(rows()).toEqual([['/Users/me/src/app', '/Users/me/src/app', 'read-write']]);

    fireEvent.change(field('Host folder'), { target: { value: '/Users/me/docs' } });
    fireEvent.change(field('In the guest'), { target: { value: '/mnt/docs' } });
    fireEvent.click(screen.getByLabelText('Read-only'));
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Share' }));
    });
    expect(client.callsOf('share.add')).toEqual([{ vm: 'dev', hostPath: '/Users/me/docs', guestPath: '/mnt/docs', readOnly: true }]);
    expect(rows()).toEqual([
      ['/Users/me/src/app', '/Users/me/src/app', 'read-write'],
      ['/Users/me/docs', '/mnt/docs', 'read-only'],
    ]);
    expect(screen.getByRole('status').textContent).toBe("Sharing /Users/me/docs at /mnt/docs, read-only. Shares take effect at the VM's next start.");
    expect(field('Host folder').value).toBe('');

    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Remove the share at /Users/me/src/app' }));
    });
    expect(client.callsOf('share.remove')).toEqual([{ vm: 'dev', path: '/Users/me/src/app' }]);
    expect(rows()).toEqual([['/Users/me/docs', '/mnt/docs', 'read-only']]);
  });

  it('checks the guest path as typed, leaves out an empty one, and shows the service\'s refusal in place', async () => {
    const client = sharingClient('stopped');
    await sharesTab(client);
    expect(screen.getByText('No shared folders.')).toBeTruthy();
    const share = screen.getByRole('button', { name: 'Share' }) as HTMLButtonElement;
    expect(share.disabled).toBe(true);
    fireEvent.change(field('Host folder'), { target: { value: 'src/app' } });
    expect(screen.getByText('The host folder must be an absolute path (starting with /).')).toBeTruthy();
    fireEvent.change(field('Host folder'), { target: { value: '/' } });
    fireEvent.change(field('In the guest'), { target: { value: '/etc' } });
    expect(screen.getByText('The guest path cannot be /etc, a system directory of the guest.')).toBeTruthy();
    expect(share.disabled).toBe(true);
    fireEvent.change(field('In the guest'), { target: { value: '' } });
    expect(share.disabled).toBe(false);
    await act(async () => {
      fireEvent.click(share);
    });
    expect(client.callsOf('share.add')).toEqual([{ vm: 'dev', hostPath: '/', readOnly: false }]);
    expect(screen.getByRole('alert').textContent).toBe('/ cannot be shared: it would give the VM every file on this computer; share a project folder instead.');
    expect(rows()).toEqual([]);
  });

  it('says a running VM sees a change from its next start, and follows a change made elsewhere', async () => {
    const client = sharingClient('ready');
    const r = await sharesTab(client);
    expect(screen.getByText(/dev is running: stop and start it to see the change\./)).toBeTruthy();
    await client.call('share.add', { vm: 'dev', hostPath: '/srv/data' });
    await act(async () => {
      r.store.getState().handleEvent({ type: 'vm.changed', vm: 'dev' });
      await new Promise((resolve) => setTimeout(resolve, 0));
    });
    expect(rows()).toEqual([['/srv/data', '/srv/data', 'read-write']]);
  });
});

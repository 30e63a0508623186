// @vitest-environment jsdom
// Base images: the list, drop-to-import with progress and cancel, and plain-words errors.
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { CallError } from '../../src-main/shared/transport';
import { BasesView } from '../../src-renderer/views/BasesView';
import { FakeXrayClient, base } from './fake-client';
import { renderWith } from './render';

afterEach(cleanup);

function withUpload(client: FakeXrayClient, upload: (file: File, onProgress?: (d: number, t: number) => void) => Promise<string>) {
  Object.assign(client, { upload });
  return client;
}

function drop(file: File) {
  fireEvent.drop(screen.getByTestId('dropzone'), { dataTransfer: { files: [file], types: ['Files'] } });
}

describe('BasesView', () => {
  it('lists bases with their size and users', async () => {
    const { store } = renderWith(new FakeXrayClient({ bases: [base('debian', { usedBy: ['web', 'db'] })] }), <BasesView />);
    await act(() => store.getState().load());
    const row = screen.getByText('debian').closest('tr')!;
    expect(row.textContent).toContain('1.0 GiB');
    expect(row.textContent).toContain('web, db');
  });

  it('tells a new user to drop an image', async () => {
    const { store } = renderWith(new FakeXrayClient(), <BasesView />);
    await act(() => store.getState().load());
    expect(screen.getByText('No base images yet')).toBeTruthy();
  });

  it('imports a dropped file, showing upload progress, then lists the new base', async () => {
    let progress: (d: number, t: number) => void = () => undefined;
    let uploaded: (path: string) => void = () => undefined;
    const client = withUpload(new FakeXrayClient(), (_file, onProgress) => {
      progress = onProgress!;
      return new Promise((resolve) => (uploaded = resolve));
    });
    client.on('base.import', () => base('debian'));
    const { store } = renderWith(client, <BasesView />);
    await act(() => store.getState().load());
    drop(new File(['0123456789'], 'debian.qcow2'));
    act(() => progress(5, 10));
    expect(screen.getByRole('status').textContent).toContain('Uploading debian.qcow2 — 50 %');
    client.on('base.list', () => [base('debian')]);
    await act(async () => uploaded('/tmp/u/debian.qcow2'));
    await waitFor(() => expect(screen.getByText('Imported debian.qcow2.')).toBeTruthy());
    expect(client.callsOf('base.import')).toEqual([{ path: '/tmp/u/debian.qcow2', name: 'debian' }]);
    expect(screen.getByText('debian').closest('tr')).toBeTruthy();
  });

  it('says in plain words why an import failed, naming the dropped file rather than its uploaded copy', async () => {
    const client = withUpload(new FakeXrayClient(), async () => '/tmp/xray-upload-1/u-2/notes.txt');
    client.on('base.import', () => {
      throw new CallError('invalid-argument', '/tmp/xray-upload-1/u-2/notes.txt is a raw disk image, not qcow2.');
    });
    const { store } = renderWith(client, <BasesView />);
    await act(() => store.getState().load());
    drop(new File(['hello'], 'notes.txt'));
    expect((await screen.findByRole('alert')).textContent).toBe('Could not import notes.txt: notes.txt is a raw disk image, not qcow2.');
  });

  it('cancels an import in progress', async () => {
    const client = withUpload(new FakeXrayClient(), () => new Promise(() => undefined));
    const { store } = renderWith(client, <BasesView />);
    await act(() => store.getState().load());
    drop(new File(['x'], 'big.qcow2'));
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('status')).toBeNull();
    expect(store.getState().importJob).toBeNull();
  });

  it('uses the file path directly in Electron instead of uploading', async () => {
    const client = new FakeXrayClient();
    Object.assign(client, { pathForFile: (f: File) => `/Users/me/${f.name}` });
    client.on('base.import', () => base('img'));
    const { store } = renderWith(client, <BasesView />);
    await act(() => store.getState().load());
    drop(new File(['x'], 'img.qcow2'));
    await waitFor(() => expect(client.callsOf('base.import')).toEqual([{ path: '/Users/me/img.qcow2', name: 'img' }]));
  });
});

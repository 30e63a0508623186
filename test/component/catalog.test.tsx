// @vitest-environment jsdom
// Getting images: the catalog in the empty state (both architectures, the
// likely one first), a pull's progress in bytes, rate and time left, cancel,
// its failure in one sentence, and the New VM dialog on the new base.
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../src-main/shared/contract';
import type { BaseInfo, GuestArch } from '../../src-main/shared/models';
import { CallError } from '../../src-main/shared/transport';
import { App } from '../../src-renderer/App';
import { FakeXrayClient, base } from './fake-client';
import { renderWith } from './render';

afterEach(cleanup);

const entry = (name: string, title: string, arch: GuestArch, imported = false): CatalogEntry => ({ name, arch, title, url: `https://example.org/${name}-${arch}.qcow2`, imported });
const catalog = (imported = false): CatalogEntry[] =>
  (['aarch64', 'x86_64'] as const).flatMap((arch) => [entry('debian-12', 'Debian 12 (bookworm)', arch, imported), entry('ubuntu-24.04', 'Ubuntu 24.04 LTS', arch)]);

const GET_DEBIAN = 'Get Debian 12 (bookworm) for Intel or AMD (x86_64)';

/** app renders the whole window over a client with no VMs, no bases and the catalog; base.pull waits for the test. */
async function app() {
  const client = new FakeXrayClient();
  client.on('base.catalog', () => catalog());
  const pull: { resolve: (b: BaseInfo) => void; reject: (e: Error) => void } = { resolve: () => undefined, reject: () => undefined };
  client.on('base.pull', () => new Promise<BaseInfo>((resolve, reject) => Object.assign(pull, { resolve, reject })));
  client.on('base.cancel', () => null);
  const r = renderWith(client, <App />);
  await screen.findByRole('heading', { name: 'Get an image' });
  return { ...r, client, pull };
}

const progress = (over: { done: number; total: number; bytesPerSecond?: number; phase?: 'download' | 'import' }) => ({ type: 'base.progress' as const, name: 'debian-12', phase: 'download' as const, ...over });

describe('Catalog', () => {
  it('offers the catalog in the empty state, each image for both architectures, the likely one first', async () => {
    await app();
    expect([...document.querySelectorAll('.catalog-table th')].map((th) => th.textContent)).toEqual(['Image', 'Intel or AMD (x86_64) likely this computer', 'ARM (aarch64)']);
    expect([...document.querySelectorAll('.catalog-table tbody td:first-child')].map((td) => td.textContent)).toEqual(['Debian 12 (bookworm)', 'Ubuntu 24.04 LTS']);
    expect(screen.getByRole('button', { name: GET_DEBIAN }).className).toBe('primary');
    expect(screen.getByRole('button', { name: 'Get Debian 12 (bookworm) for ARM (aarch64)' }).className).toBe('');
  });

  it('pulls the image by its catalog name and architecture, showing bytes, rate and time left', async () => {
    const { client } = await app();
    fireEvent.click(screen.getByRole('button', { name: GET_DEBIAN }));
    expect(client.callsOf('base.pull')).toEqual([{ source: 'debian-12', arch: 'x86_64' }]);
    const status = () => document.querySelector('[data-pull="debian-12"] p')!.textContent;
    expect(status()).toBe('Getting Debian 12 (bookworm) for Intel or AMD (x86_64)…');
    act(() => client.emit(progress({ done: 50 * 2 ** 20, total: 0, bytesPerSecond: 5 * 2 ** 20 })));
    expect(status()).toBe('Downloading Debian 12 (bookworm) for Intel or AMD (x86_64) — 50 MiB so far · 5.0 MiB/s');
    act(() => client.emit(progress({ done: 100 * 2 ** 20, total: 400 * 2 ** 20, bytesPerSecond: 10 * 2 ** 20 })));
    expect(status()).toBe('Downloading Debian 12 (bookworm) for Intel or AMD (x86_64) — 100 MiB of 400 MiB · 10 MiB/s · about 30 s left');
    act(() => client.emit(progress({ phase: 'import', done: 1, total: 4 })));
    expect(status()).toBe('Importing Debian 12 (bookworm) for Intel or AMD (x86_64) — 25 %');
  });

  it('cancels a pull through the service, and drops it once the pull says it was cancelled', async () => {
    const { client, pull } = await app();
    fireEvent.click(screen.getByRole('button', { name: GET_DEBIAN }));
    fireEvent.click(screen.getByRole('button', { name: 'Cancel getting Debian 12 (bookworm)' }));
    expect(client.callsOf('base.cancel')).toEqual([{ name: 'debian-12' }]);
    expect(document.querySelector('[data-pull="debian-12"] p')!.textContent).toBe('Cancelling Debian 12 (bookworm) for Intel or AMD (x86_64)…');
    await act(async () => pull.reject(new CallError('cancelled', 'The download of https://example.org/x.qcow2 was cancelled; nothing was kept.')));
    expect(document.querySelector('[data-pull]')).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByRole('button', { name: GET_DEBIAN })).toBeTruthy();
  });

  it('says in one sentence why a pull failed, until dismissed', async () => {
    const { pull } = await app();
    fireEvent.click(screen.getByRole('button', { name: GET_DEBIAN }));
    await act(async () => pull.reject(new CallError('corrupt', 'The download of debian-12 does not match its checksum; try again.')));
    expect(screen.getByRole('alert').textContent).toBe('Could not get Debian 12 (bookworm): The download of debian-12 does not match its checksum; try again.');
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('opens the New VM dialog on the new base once the image is in', async () => {
    const { client, pull } = await app();
    fireEvent.click(screen.getByRole('button', { name: GET_DEBIAN }));
    client.on('base.list', () => [base('debian-12')]);
    client.on('base.catalog', () => catalog(true));
    await act(async () => pull.resolve(base('debian-12')));
    const dialog = await screen.findByRole('dialog', { name: 'New VM' });
    expect((dialog.querySelector('select') as HTMLSelectElement).value).toBe('debian-12');
  });

  it('offers a VM from an image already in, on the architecture its base has', async () => {
    const client = new FakeXrayClient({ bases: [base('debian-12', { arch: 'x86_64' })] });
    client.on('base.catalog', () => catalog(true));
    renderWith(client, <App />);
    fireEvent.click(await screen.findByRole('button', { name: 'Base images' }));
    fireEvent.click(await screen.findByRole('button', { name: 'New VM from Debian 12 (bookworm) for Intel or AMD (x86_64)' }));
    expect(screen.queryByRole('button', { name: 'New VM from Debian 12 (bookworm) for ARM (aarch64)' })).toBeNull();
    const dialog = await screen.findByRole('dialog', { name: 'New VM' });
    await waitFor(() => expect((dialog.querySelector('select') as HTMLSelectElement).value).toBe('debian-12'));
  });
});

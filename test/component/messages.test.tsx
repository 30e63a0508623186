// @vitest-environment jsdom
// Xray's own warnings and errors (log events) in the window: each shows until
// dismissed, an error as an alert; the same sentence again counts up; only the
// newest MESSAGES_SHOWN stay. Over a real supervisor and Chromium, in
// test/e2e/messages.test.ts.
import { act, cleanup, fireEvent, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../src-main/shared/contract';
import { App } from '../../src-renderer/App';
import { MESSAGES_SHOWN } from '../../src-renderer/store/messages';
import { FakeXrayClient } from './fake-client';
import { renderWith } from './render';

afterEach(cleanup);

const moved = 'SSH port 2222 is busy (held by sshd, pid 812), so VM "dev" now uses 2223; if you copied its "xray ssh-config" block, copy it again.';
const hookFailed = 'The first-boot hook "setup.sh" (vm) of VM "dev" failed: exit code 1; the VM keeps running, see /home/u/.xray/vms/dev/hooks.log.';

function log(level: 'warn' | 'error', message: string, source = 'start'): XrayEvent {
  return { type: 'log', level, source, message };
}

/** sentence is a card's text without its Dismiss button. */
const sentence = (card: HTMLElement) => card.querySelector('p')?.textContent;

function shown(client: FakeXrayClient) {
  renderWith(client, <App />);
  const emit = (event: XrayEvent) => act(() => client.emit(event));
  const region = () => screen.queryByRole('region', { name: 'Messages from Xray' });
  return { emit, region };
}

describe("Xray's messages", () => {
  it('shows a warning as a status and an error as an alert, each until dismissed', () => {
    const client = new FakeXrayClient();
    const { emit, region } = shown(client);
    expect(region()).toBeNull();

    emit(log('warn', moved));
    emit(log('error', hookFailed, 'hooks'));
    const messages = within(region()!);
    expect(sentence(messages.getByRole('status'))).toBe(moved);
    expect(sentence(messages.getByRole('alert'))).toBe(hookFailed);

    fireEvent.click(within(messages.getByRole('status')).getByRole('button', { name: 'Dismiss' }));
    expect(within(region()!).queryByRole('status')).toBeNull();
    expect(sentence(within(region()!).getByRole('alert'))).toBe(hookFailed);
    fireEvent.click(within(region()!).getByRole('button', { name: 'Dismiss' }));
    expect(region()).toBeNull();
  });

  it('counts the same sentence again instead of showing it twice, and moves it last', () => {
    const client = new FakeXrayClient();
    const { emit, region } = shown(client);
    emit(log('warn', moved));
    emit(log('error', hookFailed, 'hooks'));
    emit(log('warn', moved));
    const cards = [...region()!.querySelectorAll<HTMLElement>('.message')];
    expect(cards.map(sentence)).toEqual([hookFailed, `${moved} (2 times)`]);
  });

  it('keeps only the newest messages', () => {
    const client = new FakeXrayClient();
    const { emit, region } = shown(client);
    const sentences = Array.from({ length: MESSAGES_SHOWN + 2 }, (_, i) => `VM "vm${i}" did not start: no base image.`);
    for (const s of sentences) emit(log('error', s, 'autostart'));
    const cards = within(region()!).getAllByRole('alert');
    expect(cards.map(sentence)).toEqual(sentences.slice(-MESSAGES_SHOWN));
  });
});

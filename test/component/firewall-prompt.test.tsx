// @vitest-environment jsdom
// The firewall question: details, scope and lifetime, keyboard answers, countdown, queue.
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FirewallPromptQueue } from '../../src-renderer/views/FirewallPrompt';
import { FakeXrayClient, prompt } from './fake-client';
import { renderWith } from './render';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

function answering(prompts = [prompt('p1')]) {
  const client = new FakeXrayClient({ prompts });
  client.on('prompt.answer', () => null);
  client.on('firewall.log', () => [
    { at: '2025-01-01T00:00:00Z', vm: 'dev', kind: 'decision', destination: { ip: '1.1.1.1', port: 53, name: 'dns.example', nameSource: 'dns', service: 'dns' }, action: 'deny', reason: 'rule' },
  ]);
  return client;
}

describe('FirewallPromptQueue', () => {
  it('shows the VM, name, IP, port, service and recent decisions', async () => {
    const client = answering();
    const { store } = renderWith(client, <FirewallPromptQueue />);
    await act(() => store.getState().load());
    const dialog = await screen.findByRole('alertdialog');
    expect(dialog.textContent).toContain('dev wants to connect to www.example.com:443');
    expect(dialog.textContent).toContain('93.184.216.34');
    expect(dialog.textContent).toContain('https');
    await waitFor(() => expect(dialog.textContent).toContain('Recent decisions for dev'));
    expect(dialog.textContent).toContain('dns.example:53');
  });

  it('allows with Enter and denies with Esc, sending the chosen scope and lifetime', async () => {
    const client = answering([prompt('p1'), prompt('p2')]);
    const { store } = renderWith(client, <FirewallPromptQueue />);
    await act(() => store.getState().load());
    fireEvent.click(screen.getByLabelText('*.example.com, any port'));
    fireEvent.click(screen.getByLabelText('1 hour'));
    fireEvent.keyDown(window, { key: 'Enter' });
    await waitFor(() => expect(client.callsOf('prompt.answer')).toHaveLength(1));
    expect(client.callsOf('prompt.answer')[0]).toEqual({ id: 'p1', action: 'allow', scope: 'domain-suffix', lifetime: 'duration', durationSeconds: 3600 });
    await waitFor(() => expect(store.getState().prompts.map((p) => p.id)).toEqual(['p2']));
    fireEvent.click(screen.getByLabelText('Forever'));
    fireEvent.keyDown(window, { key: 'Escape' });
    await waitFor(() => expect(client.callsOf('prompt.answer')).toHaveLength(2));
    expect(client.callsOf('prompt.answer')[1]).toEqual({ id: 'p2', action: 'deny', scope: 'host-port', lifetime: 'forever' });
  });

  it('offers only address scopes when the destination has no name', async () => {
    const nameless = prompt('p1', { destination: { ip: '10.0.0.9', port: 22, name: null, nameSource: null, service: 'ssh' } });
    const { store } = renderWith(answering([nameless]), <FirewallPromptQueue />);
    await act(() => store.getState().load());
    const scopes = screen.getAllByRole('radio').filter((r) => (r as HTMLInputElement).name === 'scope');
    expect(scopes.map((r) => (r as HTMLInputElement).value)).toEqual(['host-port', 'any-port']);
  });

  it('counts down to the default answer', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const { store } = renderWith(answering([prompt('p1', { deadline: new Date(Date.now() + 30_000).toISOString() })]), <FirewallPromptQueue />);
    await act(() => store.getState().load());
    expect(screen.getByRole('timer').textContent).toBe('Denied in 30 s unless you answer');
    act(() => vi.advanceTimersByTime(5_000));
    expect(screen.getByRole('timer').textContent).toBe('Denied in 25 s unless you answer');
  });

  it('lists the questions waiting behind the current one', async () => {
    const waiting = prompt('p2', { vm: 'ci', destination: { ip: '140.82.112.3', port: 22, name: 'github.com', nameSource: 'sni', service: 'ssh' } });
    const { store } = renderWith(answering([prompt('p1'), waiting]), <FirewallPromptQueue />);
    await act(() => store.getState().load());
    const queue = screen.getByLabelText('Waiting questions');
    expect(queue.textContent).toContain('1 more waiting');
    expect(queue.textContent).toContain('ci → github.com:22');
  });

  it('shows a failed answer in place and keeps the question', async () => {
    const client = answering();
    client.on('prompt.answer', () => {
      throw new Error('"prompt.answer" is not available in this version of Xray.');
    });
    const { store } = renderWith(client, <FirewallPromptQueue />);
    await act(() => store.getState().load());
    fireEvent.click(screen.getByRole('button', { name: /Allow/ }));
    expect((await screen.findByRole('alert')).textContent).toBe('"prompt.answer" is not available in this version of Xray.');
    expect(screen.getByRole('alertdialog')).toBeTruthy();
  });
});

// @vitest-environment jsdom
// The firewall question: details, scope and lifetime, deliberate answers (arming
// delay, no Enter from anywhere, Esc denies), focus, countdown, queue, and the
// notice left by a prompt whose connections gave up. Real key
// handling (Enter on a focused button, Tab order) is tested in Chromium, in
// test/e2e/prompt-keys.test.ts.
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { useRef } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbandonedNotice, ARMING_DELAY_MS, FirewallPromptQueue, NOTICE_MS } from '../../src-renderer/views/FirewallPrompt';
import { FakeXrayClient, prompt } from './fake-client';
import { renderWith } from './render';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

/**
 * fakeTimeouts fakes setTimeout only, so the arming delay can be passed without
 * sleeping; testing-library's waitFor needs real timers, so tests using this
 * settle promises with settle() instead.
 */
function fakeTimeouts() {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
}

/** arm lets the shown prompt's arming delay pass. */
function arm() {
  act(() => vi.advanceTimersByTime(ARMING_DELAY_MS));
}

/** settle lets the fake client's answers resolve and React apply them. */
async function settle() {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(0);
  });
}

function button(name: RegExp): HTMLButtonElement {
  return screen.getByRole('button', { name }) as HTMLButtonElement;
}

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

  it('ignores its controls and Esc until armed, then allows with the clicked button, sending the chosen scope and lifetime', async () => {
    fakeTimeouts();
    const client = answering([prompt('p1'), prompt('p2')]);
    const { store } = renderWith(client, <FirewallPromptQueue />);
    await act(() => store.getState().load());
    expect(button(/Allow/).disabled).toBe(true);
    expect(button(/Deny/).disabled).toBe(true);
    expect(screen.getByLabelText('Forever').matches(':disabled')).toBe(true);
    fireEvent.click(button(/Allow/));
    fireEvent.keyDown(screen.getByRole('alertdialog'), { key: 'Escape' });
    act(() => vi.advanceTimersByTime(ARMING_DELAY_MS - 1));
    expect(button(/Allow/).disabled).toBe(true);
    await settle();
    expect(client.callsOf('prompt.answer')).toEqual([]);
    act(() => vi.advanceTimersByTime(1));
    expect(button(/Allow/).disabled).toBe(false);
    fireEvent.click(screen.getByLabelText('*.example.com, any port'));
    fireEvent.click(screen.getByLabelText('1 hour'));
    fireEvent.click(button(/Allow/));
    await settle();
    expect(client.callsOf('prompt.answer')).toEqual([{ id: 'p1', action: 'allow', scope: 'domain-suffix', lifetime: 'duration', durationSeconds: 3600 }]);
    expect(store.getState().prompts.map((p) => p.id)).toEqual(['p2']);
    expect(button(/Allow/).disabled).toBe(true);
  });

  it('never answers Enter pressed outside a button, and denies with Esc once armed', async () => {
    fakeTimeouts();
    const client = answering();
    const { store } = renderWith(client, <FirewallPromptQueue />);
    await act(() => store.getState().load());
    arm();
    const dialog = screen.getByRole('alertdialog');
    fireEvent.keyDown(window, { key: 'Enter' });
    fireEvent.keyDown(document.body, { key: 'Enter' });
    fireEvent.keyDown(dialog, { key: 'Enter' });
    fireEvent.keyDown(screen.getByLabelText('Forever'), { key: 'Enter' });
    await settle();
    expect(client.callsOf('prompt.answer')).toEqual([]);
    fireEvent.click(screen.getByLabelText('Forever'));
    fireEvent.keyDown(screen.getByLabelText('Forever'), { key: 'Escape' });
    await settle();
    expect(client.callsOf('prompt.answer')).toEqual([{ id: 'p1', action: 'deny', scope: 'host-port', lifetime: 'forever' }]);
  });

  it('takes focus onto itself, makes the content behind inert, and gives focus back when answered', async () => {
    fakeTimeouts();
    const client = answering([]);
    function Window() {
      const behind = useRef<HTMLDivElement>(null);
      return (
        <>
          <div ref={behind} data-testid="behind">
            <input aria-label="Forwarded ports" />
          </div>
          <FirewallPromptQueue behind={behind} />
        </>
      );
    }
    renderWith(client, <Window />);
    const ports = screen.getByLabelText('Forwarded ports');
    ports.focus();
    act(() => client.emit({ type: 'prompt.opened', prompt: prompt('p1') }));
    const dialog = screen.getByRole('alertdialog');
    expect(document.activeElement).toBe(dialog);
    expect(screen.getByTestId('behind').hasAttribute('inert')).toBe(true);
    arm();
    fireEvent.keyDown(dialog, { key: 'Escape' });
    await settle();
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(screen.getByTestId('behind').hasAttribute('inert')).toBe(false);
    expect(document.activeElement).toBe(ports);
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
    fakeTimeouts();
    const client = answering();
    client.on('prompt.answer', () => {
      throw new Error('"prompt.answer" is not available in this version of Xray.');
    });
    const { store } = renderWith(client, <FirewallPromptQueue />);
    await act(() => store.getState().load());
    arm();
    fireEvent.click(button(/Allow/));
    await settle();
    expect(screen.getByRole('alert').textContent).toBe('"prompt.answer" is not available in this version of Xray.');
    expect(screen.getByRole('alertdialog')).toBeTruthy();
    expect(button(/Allow/).disabled).toBe(false);
  });

  it('follows the number of waiting connections as they drop', async () => {
    const client = answering([prompt('p1', { waitingConnections: 3 })]);
    const { store } = renderWith(client, <FirewallPromptQueue />);
    await act(() => store.getState().load());
    const waiting = () => screen.getByText('Waiting').nextElementSibling?.textContent;
    expect(waiting()).toBe('3 connections');
    act(() => client.emit({ type: 'prompt.updated', prompt: prompt('p1', { waitingConnections: 1 }) }));
    expect(waiting()).toBe('1 connection');
  });

  it('says briefly that a prompt was abandoned, lets the next one take over, and clears the notice on its own', async () => {
    fakeTimeouts();
    const curl = { pid: 812, command: '/usr/bin/curl -s https://www.example.com/', user: 'ubuntu' };
    const github = prompt('p2', { destination: { ip: '140.82.112.3', port: 22, name: 'github.com', nameSource: 'sni', service: 'ssh' } });
    const client = answering([prompt('p1', { guestProcess: curl }), github]);
    const { store } = renderWith(
      client,
      <>
        <FirewallPromptQueue />
        <AbandonedNotice />
      </>,
    );
    await act(() => store.getState().load());
    arm();
    expect(screen.getByRole('status').textContent).toBe('');
    act(() => client.emit({ type: 'prompt.closed', id: 'p1', vm: 'dev', action: 'deny', reason: 'abandoned' }));
    expect(screen.getByRole('status').textContent).toBe('dev: curl gave up on www.example.com:443 before you answered');
    expect(screen.getByRole('alertdialog').textContent).toContain('dev wants to connect to github.com:22');
    expect(button(/Allow/).disabled).toBe(true);
    act(() => vi.advanceTimersByTime(NOTICE_MS - 1));
    expect(screen.getByRole('status').textContent).not.toBe('');
    act(() => vi.advanceTimersByTime(1));
    expect(screen.getByRole('status').textContent).toBe('');
    expect(client.callsOf('prompt.answer')).toEqual([]);
  });

  it('counts further abandoned prompts, says "a program" when none is known, and goes when dismissed', async () => {
    const client = answering([prompt('p1'), prompt('p2', { vm: 'ci' })]);
    const { store } = renderWith(client, <AbandonedNotice />);
    await act(() => store.getState().load());
    act(() => client.emit({ type: 'prompt.closed', id: 'p1', vm: 'dev', action: 'deny', reason: 'abandoned' }));
    act(() => client.emit({ type: 'prompt.closed', id: 'p2', vm: 'ci', action: 'deny', reason: 'abandoned' }));
    expect(screen.getByRole('status').textContent).toBe('ci: a program gave up on www.example.com:443 before you answered (1 more question closed the same way)');
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.getByRole('status').textContent).toBe('');
  });
});

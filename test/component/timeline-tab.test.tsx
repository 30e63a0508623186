// @vitest-environment jsdom
// The timeline tab: snapshots as milestones with the VM's events between
// them, filters, "now" and the last revert marked, and the two things done
// from an event: going back to the last snapshot before it, and revoking the
// rule that decided it.
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../src-main/shared/models';
import { CallError } from '../../src-main/shared/transport';
import { TimelineTab } from '../../src-renderer/views/vm/TimelineTab';
import { FakeXrayClient, vm } from './fake-client';
import { renderWith } from './render';
import { at, network, sampleSnapshots as snapshots, sampleTimeline as entries } from './timeline-samples';

afterEach(cleanup);

async function timelineTab(list: TimelineEntry[] = entries) {
  const client = new FakeXrayClient({ vms: [vm('dev', { state: 'ready' })], snapshots });
  client.on('vm.timeline', () => list);
  const r = renderWith(client, <TimelineTab vm="dev" />);
  await act(async () => {
    await r.store.getState().load();
    await r.store.getState().refreshSnapshots('dev');
  });
  await screen.findByRole('region', { name: 'Timeline, oldest first' });
  return { ...r, client };
}

/** rows names each row in the document: a snapshot by name, an event by its words, and "now". */
const rows = () =>
  [...document.querySelectorAll('li.tl-row')].map((li) =>
    li.getAttribute('data-snapshot') !== null ? `snapshot ${li.getAttribute('data-snapshot')}` : li.hasAttribute('data-now') ? 'now' : li.querySelector('.tl-text')!.textContent,
  );

const row = (words: string) => screen.getByText(words, { selector: '.tl-text' }).closest('li')!;

describe('TimelineTab', () => {
  it('lists the snapshots as milestones with the events between them, oldest first, down to now', async () => {
    await timelineTab();
    expect(rows()).toEqual([
      'ready',
      'snapshot clean',
      'allowed api.github.com:443 (rule *.github.com)',
      'denied evil.example:443 (asked)',
      'boot hook 10-setup.sh succeeded',
      'snapshot configured',
      'allowed deb.debian.org:443 (rule default:*.debian.org)',
      'snapshot "clean" reverted',
      'allowed pypi.org:443 (rule pypi.org:443)',
      'now',
    ]);
  });

  it('tags the snapshots Xray took by itself as automatic, and only those', async () => {
    const { client, store } = await timelineTab();
    const auto = { name: 'auto-first-boot', date: at('10:30:00'), vmStateSize: 0, hasMemory: false, description: 'Taken automatically when the first boot completed.', auto: true };
    client.on('snapshot.list', () => [...snapshots, auto]);
    await act(async () => {
      await store.getState().refreshSnapshots('dev');
    });
    expect(document.querySelector('li[data-snapshot="auto-first-boot"] .tag-auto')!.textContent).toBe('automatic');
    expect(document.querySelector('li[data-snapshot="auto-first-boot"]')!.textContent).toContain('Taken automatically when the first boot completed.');
    expect(document.querySelectorAll('.tag-auto')).toHaveLength(1);
  });

  it('marks the snapshot the VM was last reverted to, and only that one', async () => {
    await timelineTab();
    expect(document.querySelector('li[data-snapshot="clean"]')!.textContent).toContain('last reverted to');
    expect(document.querySelector('li[data-snapshot="configured"]')!.textContent).not.toContain('last reverted to');
  });

  it('hides the kinds of event unticked, and keeps only events with the words typed', async () => {
    await timelineTab();
    fireEvent.click(screen.getByLabelText('Allowed'));
    expect(rows()).toEqual(['ready', 'snapshot clean', 'denied evil.example:443 (asked)', 'boot hook 10-setup.sh succeeded', 'snapshot configured', 'snapshot "clean" reverted', 'now']);
    fireEvent.change(screen.getByLabelText('Events containing'), { target: { value: 'EVIL' } });
    expect(rows()).toEqual(['snapshot clean', 'denied evil.example:443 (asked)', 'snapshot configured', 'now']);
  });

  it('reverts to the last snapshot before a selected event, after asking', async () => {
    const { client } = await timelineTab();
    client.on('snapshot.revert', () => null);
    fireEvent.click(row('denied evil.example:443 (asked)'));
    fireEvent.click(screen.getByRole('button', { name: 'Revert to “clean”, the last snapshot before this' }));
    expect(screen.getByRole('alertdialog').textContent).toContain('Revert dev to “clean”? Changes made since then are lost.');
    expect(client.callsOf('snapshot.revert')).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Revert' }));
    await waitFor(() => expect(client.callsOf('snapshot.revert')).toEqual([{ vm: 'dev', name: 'clean' }]));
  });

  it('says so when no snapshot was taken before the selected event', async () => {
    await timelineTab();
    fireEvent.click(row('ready'));
    expect(screen.getByText('No snapshot was taken before this, so there is none to go back to.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: /the last snapshot before this/ })).toBeNull();
  });

  it('revokes the rule that allowed a connection', async () => {
    const { client } = await timelineTab();
    client.on('firewall.remove', () => null);
    fireEvent.click(row('allowed pypi.org:443 (rule pypi.org:443)'));
    fireEvent.click(screen.getByRole('button', { name: 'Revoke the rule that allowed this (pypi.org:443)' }));
    expect((await screen.findByRole('status')).textContent).toBe('Rule pypi.org:443 revoked.');
    expect(client.callsOf('firewall.remove')).toEqual([{ vm: 'dev', id: 'pypi.org:443' }]);
  });

  it('says in the app\'s words when the rule to revoke is gone already', async () => {
    const { client } = await timelineTab();
    client.on('firewall.remove', () => {
      throw new CallError('not-found', 'VM "dev" has no rule "pypi.org:443"; see "xray firewall list dev".');
    });
    fireEvent.click(row('allowed pypi.org:443 (rule pypi.org:443)'));
    fireEvent.click(screen.getByRole('button', { name: 'Revoke the rule that allowed this (pypi.org:443)' }));
    expect((await screen.findByRole('alert')).textContent).toBe('VM "dev" has no rule "pypi.org:443" any more; it expired, was used up or was removed.');
  });

  it('says a default rule is not revoked here, and offers no button for it', async () => {
    await timelineTab();
    fireEvent.click(row('allowed deb.debian.org:443 (rule default:*.debian.org)'));
    expect(screen.getByText(/^The default rule \*\.debian\.org allowed this; default rules are changed in Xray's default rules file, not here\.$/)).toBeTruthy();
    expect(screen.queryByRole('button', { name: /^Revoke/ })).toBeNull();
  });

  it('adds entries as they are announced, before now', async () => {
    const { client } = await timelineTab();
    act(() => client.emit({ type: 'timeline.entry', entry: network('11:40:00', 'files.pythonhosted.org', 'allow', 'pypi.org:443') }));
    expect(rows().slice(-2)).toEqual(['allowed files.pythonhosted.org:443 (rule pypi.org:443)', 'now']);
  });

  it('moves the selection with the keys, from the newest event up', async () => {
    await timelineTab();
    const list = screen.getByRole('region', { name: 'Timeline, oldest first' });
    fireEvent.keyDown(list, { key: 'ArrowUp' });
    expect(row('allowed pypi.org:443 (rule pypi.org:443)').getAttribute('aria-current')).toBe('true');
    fireEvent.keyDown(list, { key: 'ArrowUp' });
    expect(screen.getByLabelText('Selected event').textContent).toContain('snapshot "clean" reverted');
    fireEvent.keyDown(list, { key: 'Home' });
    expect(row('ready').getAttribute('aria-current')).toBe('true');
  });

  it('keeps only the rows in view in the document when there are 10,000 entries, starting at now', async () => {
    const start = Date.parse(at('12:00:00'));
    const many = Array.from({ length: 10_000 }, (_, i) => ({ ...network('12:00:00', `host-${i}.example`, 'allow', null), at: new Date(start + i * 1000).toISOString() }));
    await timelineTab(many);
    const drawn = rows();
    expect(drawn.length).toBeLessThan(50);
    expect(drawn.slice(-2)).toEqual(['allowed host-9999.example:443 (asked)', 'now']);
  });
});

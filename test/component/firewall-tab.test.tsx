// @vitest-environment jsdom
// The Firewall tab's rules: live as they change anywhere, and added, changed
// and removed here.
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { FirewallRule, RuleLifetime } from '../../src-main/shared/models';
import { CallError } from '../../src-main/shared/transport';
import { FirewallTab } from '../../src-renderer/views/vm/FirewallTab';
import { FakeXrayClient, vm } from './fake-client';
import { renderWith } from './render';

afterEach(cleanup);

const rule = (domain: string, port: number | null, over: Partial<FirewallRule> = {}): FirewallRule => ({
  id: port === null ? domain : `${domain}:${port}`,
  target: { kind: 'domain', domain, port },
  action: 'allow',
  lifetime: { kind: 'forever' },
  source: 'vm',
  ...over,
});

const destination = { ip: '93.184.216.34', port: 443, name: 'example.com', nameSource: 'socks' as const, service: 'https' };

/** firewallTab renders the tab over a client whose rules are `rules` until the test changes them. */
async function firewallTab(rules: FirewallRule[], state: 'stopped' | 'ready' = 'stopped') {
  const client = new FakeXrayClient({ vms: [vm('dev', { state })] });
  let current = rules;
  client.on('firewall.rules', () => current);
  const r = renderWith(client, <FirewallTab vm="dev" />);
  await act(async () => {
    await r.store.getState().load();
    await r.store.getState().loadDetail('dev');
  });
  return { ...r, client, setRules: (next: FirewallRule[]) => (current = next) };
}

const ruleRows = () => [...document.querySelectorAll('tr[data-rule]')].map((tr) => tr.getAttribute('data-rule'));

describe('FirewallTab rules', () => {
  it('shows a rule made by answering a prompt without a reload', async () => {
    const { client, setRules } = await firewallTab([], 'ready');
    setRules([rule('example.com', 443)]);
    act(() => client.emit({ type: 'prompt.closed', id: 'p1', vm: 'dev', action: 'allow', reason: 'answered' }));
    await waitFor(() => expect(ruleRows()).toEqual(['example.com:443']));
  });

  it('follows rules changed elsewhere, as the VM-changed event says', async () => {
    const { client, setRules } = await firewallTab([rule('example.com', 443)]);
    setRules([]);
    act(() => client.emit({ type: 'vm.changed', vm: 'dev' }));
    await waitFor(() => expect(ruleRows()).toEqual([]));
  });

  it('fetches the rules again once a rule that lasts once has decided, and it is gone', async () => {
    const { client, setRules } = await firewallTab([rule('example.com', 443, { lifetime: { kind: 'once' }, source: 'session' })], 'ready');
    setRules([]);
    act(() => client.emit({ type: 'firewall.decision', vm: 'dev', destination, action: 'allow', reason: 'rule example.com:443', rule: 'example.com:443' }));
    await waitFor(() => expect(ruleRows()).toEqual([]));
  });

  it('drops a rule that lasts a while once it runs out', async () => {
    const until = new Date(Date.now() + 100).toISOString();
    const { setRules } = await firewallTab([rule('example.com', 443, { lifetime: { kind: 'duration', until } })]);
    setRules([]);
    await waitFor(() => expect(ruleRows()).toEqual([]), { timeout: 2000 });
  });

  it('adds a rule for a target with its action and lifetime, and shows it', async () => {
    const { client, setRules } = await firewallTab([]);
    client.on('firewall.add', (p) => {
      const added = rule('deb.debian.org', null, { action: p.action, lifetime: { kind: 'duration', until: '2030-01-01T00:00:00Z' } });
      setRules([added]);
      return added;
    });
    fireEvent.change(screen.getByLabelText('Target'), { target: { value: ' deb.debian.org ' } });
    fireEvent.change(screen.getByLabelText('Action'), { target: { value: 'deny' } });
    fireEvent.change(screen.getByLabelText('Lasts'), { target: { value: 'hour' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add rule' }));
    await waitFor(() => expect(ruleRows()).toEqual(['deb.debian.org']));
    expect(client.callsOf('firewall.add')).toEqual([{ vm: 'dev', target: 'deb.debian.org', action: 'deny', lifetime: 'duration', durationSeconds: 3600 }]);
    await waitFor(() => expect((screen.getByLabelText('Target') as HTMLInputElement).value).toBe(''));
  });

  it('shows the service\'s sentence for a bad target and keeps what was typed', async () => {
    const { client } = await firewallTab([]);
    const sentence = '"not a host!" is not a firewall target; use HOST, HOST:PORT, *.DOMAIN, an IP, [IPv6]:PORT or a CIDR like 10.0.0.0/8:22.';
    client.on('firewall.add', () => {
      throw new CallError('invalid-argument', sentence);
    });
    fireEvent.change(screen.getByLabelText('Target'), { target: { value: 'not a host!' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add rule' }));
    expect((await screen.findByRole('alert')).textContent).toBe(sentence);
    expect((screen.getByLabelText('Target') as HTMLInputElement).value).toBe('not a host!');
  });

  it('offers "until the VM stops" only while the VM runs', async () => {
    await firewallTab([]);
    const option = () => screen.getByRole('option', { name: 'Until the VM stops' }) as HTMLOptionElement;
    expect(option().disabled).toBe(true);
    cleanup();
    await firewallTab([], 'ready');
    expect(option().disabled).toBe(false);
  });

  it('changes a rule\'s action by adding its target again, keeping how long it lasts', async () => {
    const { client } = await firewallTab([rule('example.com', 443)]);
    client.on('firewall.add', (p) => rule('example.com', 443, { action: p.action }));
    fireEvent.change(screen.getByLabelText('Action for example.com:443'), { target: { value: 'deny' } });
    await waitFor(() => expect(client.callsOf('firewall.add')).toEqual([{ vm: 'dev', target: 'example.com:443', action: 'deny', lifetime: 'forever' }]));
  });

  it('changes how long a rule lasts, keeping its action', async () => {
    const lifetime: RuleLifetime = { kind: 'duration', until: '2030-01-01T00:00:00Z' };
    const { client } = await firewallTab([rule('example.com', null, { action: 'deny', lifetime })]);
    client.on('firewall.add', (p) => rule('example.com', null, { action: p.action }));
    const menu = screen.getByLabelText('How long example.com lasts') as HTMLSelectElement;
    expect(menu.selectedOptions[0]!.textContent).toMatch(/^until /);
    fireEvent.change(menu, { target: { value: 'forever' } });
    await waitFor(() => expect(client.callsOf('firewall.add')).toEqual([{ vm: 'dev', target: 'example.com', action: 'deny', lifetime: 'forever' }]));
  });

  it('removes a rule', async () => {
    const { client, setRules } = await firewallTab([rule('example.com', 443), rule('github.com', 22)]);
    client.on('firewall.remove', () => {
      setRules([rule('github.com', 22)]);
      return null;
    });
    fireEvent.click(screen.getByRole('button', { name: 'Remove rule example.com:443' }));
    await waitFor(() => expect(ruleRows()).toEqual(['github.com:22']));
    expect(client.callsOf('firewall.remove')).toEqual([{ vm: 'dev', id: 'example.com:443' }]);
  });

  it('shows default rules without controls, saying where they are changed', async () => {
    await firewallTab([rule('debian.org', null, { id: 'default:*.debian.org', target: { kind: 'domain-suffix', domain: 'debian.org', port: null }, source: 'default' })]);
    const row = document.querySelector('tr[data-rule="default:*.debian.org"]')!;
    expect(row.textContent).toBe('*.debian.org, any portallowFrom the default rules file; edit that file to change it.');
    expect(row.querySelectorAll('select, button')).toHaveLength(0);
  });
});

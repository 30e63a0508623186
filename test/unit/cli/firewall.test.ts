// `xray firewall` at a terminal and in a script, over a fake API.
import { describe, expect, it } from 'vitest';
import type { FirewallPrompt } from '../../../src-main/shared/models';
import { FakeApi, fakeCli } from '../../helpers/cli-context';
import { waitFor } from '../../helpers/wait';

const prompt: FirewallPrompt = {
  id: 'p1', vm: 'web', destination: { ip: '1.2.3.4', port: 443, name: 'example.com', nameSource: 'sni', service: 'https' },
  openedAt: '', deadline: '', waitingConnections: 1, guestProcess: null,
};

describe('xray firewall clear', () => {
  it('asks on a terminal and clears when the person says yes', async () => {
    const api = new FakeApi({ 'firewall.clear': null });
    const cli = fakeCli(api, { tty: true });
    cli.stdin.write('y\n');
    expect(await cli.run('firewall', 'clear', 'web')).toBe(0);
    expect(cli.stdout()).toContain('Remove every rule of VM "web"?');
    expect(api.callsOf('firewall.clear')).toEqual([{ vm: 'web' }]);
  });

  it('needs --force in a script', async () => {
    const api = new FakeApi({ 'firewall.clear': null });
    const cli = fakeCli(api);
    expect(await cli.run('firewall', 'clear', 'web')).toBe(1);
    expect(cli.stderr()).toMatch(/^xray: .*not asking without a terminal; pass --force to go ahead\.\n$/);
    expect(api.calls).toEqual([]);
    expect(await cli.run('firewall', 'clear', 'web', '--force')).toBe(0);
    expect(api.callsOf('firewall.clear')).toEqual([{ vm: 'web' }]);
  });
});

describe('xray firewall watch', () => {
  it('answers the waiting prompt on a single key press at a terminal, without Enter, and gives the terminal back', async () => {
    const api = new FakeApi({ 'prompt.list': [prompt], 'prompt.answer': null });
    const cli = fakeCli(api, { tty: true });
    const watching = cli.run('firewall', 'watch');
    await waitFor('the prompt at a raw terminal', () => api.callsOf('prompt.list').length > 0 && cli.stdin.rawMode);
    cli.stdin.write('A');
    await waitFor('the answer', () => api.callsOf('prompt.answer').length > 0);
    expect(api.callsOf('prompt.answer')).toEqual([{ id: 'p1', action: 'allow', lifetime: 'forever' }]);
    cli.stdin.write('\x03');
    expect(await watching).toBe(0);
    expect(cli.stdin.rawMode).toBe(false);
    expect(cli.stdout()).toContain('[p1] web → example.com (1.2.3.4):443 https  allow? [a/A/d/D]');
  });

  it('reads whole lines from a script and stops when its input ends', async () => {
    const api = new FakeApi({ 'prompt.list': [prompt], 'prompt.answer': null });
    const cli = fakeCli(api);
    const watching = cli.run('firewall', 'watch');
    cli.stdin.end('d\n');
    expect(await watching).toBe(0);
    expect(api.callsOf('prompt.answer')).toEqual([{ id: 'p1', action: 'deny', lifetime: 'once' }]);
  });

  it('shows a request prompt with its method and path, answers it with its narrowest scope, and prints refused requests and secrets', async () => {
    const request: FirewallPrompt = { ...prompt, id: 'p2', destination: { ...prompt.destination, name: 'api.github.com' }, request: { method: 'POST', path: '/gists' } };
    const api = new FakeApi({ 'prompt.list': [], 'prompt.answer': null });
    const cli = fakeCli(api, { tty: true });
    const watching = cli.run('firewall', 'watch');
    await waitFor('the watch to subscribe', () => api.subscribers > 0 && cli.stdin.rawMode);
    api.emit({ type: 'prompt.opened', prompt: request });
    api.emit({ type: 'egress.report', report: { kind: 'secret-refused', vm: 'web', host: 'paste.test', secret: 'github', place: 'body', header: null, method: 'POST', path: '/up' } });
    api.emit({ type: 'egress.report', report: { kind: 'secret-used', vm: 'web', host: 'api.github.com', secret: 'github', header: 'Authorization', method: 'GET', path: '/user' } });
    cli.stdin.write('a');
    await waitFor('the answer', () => api.callsOf('prompt.answer').length > 0);
    cli.stdin.write('\x03');
    expect(await watching).toBe(0);
    expect(api.callsOf('prompt.answer')).toEqual([{ id: 'p2', action: 'allow', lifetime: 'once' }]);
    expect(cli.stdout()).toContain('[p2] web → POST api.github.com/gists (1.2.3.4:443)  allow? [a/A/d/D]');
    expect(cli.stdout()).toContain('VM "web" tried to send secret "github" to paste.test in the request body (POST /up); the request was refused.');
    expect(cli.stdout()).not.toContain('/user');
  });
});

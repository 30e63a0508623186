import { describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../../src-main/shared/contract';
import type { FirewallPrompt, HookRun } from '../../../src-main/shared/models';
import { notificationFor, REPEAT_QUIET_MS, RepeatGate } from '../../../src-main/electron/notifications';
import { quitChoice, quitDialog } from '../../../src-main/electron/quit';

const hidden = { anyWindowVisible: false };
const run = (overrides: Partial<HookRun>): HookRun => ({
  vm: 'web', type: 'boot', script: '/h/vms/web/scripts/boot/10-setup', source: 'vm',
  startedAt: '2025-01-01T00:00:00Z', finishedAt: '2025-01-01T00:00:01Z', exitCode: 0, error: null, ...overrides,
});
const prompt: FirewallPrompt = {
  id: 'p1', vm: 'web', openedAt: '', deadline: '', waitingConnections: 1,
  destination: { ip: '93.184.216.34', port: 443, name: 'example.com', nameSource: 'sni', service: 'https' },
  guestProcess: { pid: 12, command: 'curl', user: 'debian' },
};

describe('notificationFor', () => {
  it.each<{ name: string; event: XrayEvent; title: string | null }>([
    { name: 'a crash', event: { type: 'vm.state', vm: 'web', state: 'crashed', previous: 'ready', crash: { at: '', exitCode: 1, signal: null, consoleTail: [], stderrTail: [] } }, title: 'VM "web" crashed' },
    { name: 'a clean stop', event: { type: 'vm.state', vm: 'web', state: 'stopped', previous: 'stopping' }, title: null },
    { name: 'a failed hook', event: { type: 'hook.finished', run: run({ exitCode: 2 }) }, title: 'A boot hook failed on "web"' },
    { name: 'a hook that could not run', event: { type: 'hook.finished', run: run({ exitCode: null, error: 'ssh refused' }) }, title: 'A boot hook failed on "web"' },
    { name: 'a hook that succeeded', event: { type: 'hook.finished', run: run({ exitCode: 0 }) }, title: null },
    { name: 'a waiting prompt', event: { type: 'prompt.opened', prompt }, title: '"web" wants to connect to example.com:443' },
    { name: 'an error Xray logged', event: { type: 'log', level: 'error', source: 'ssh', message: 'VM "web": the key was refused.' }, title: 'Xray ran into a problem' },
    { name: 'a VM autostart could not start', event: { type: 'log', level: 'error', source: 'autostart', message: 'VM "web" did not start: no base.' }, title: 'A VM did not start' },
    { name: "a failed hook's error line (its hook.finished notifies)", event: { type: 'log', level: 'error', source: 'hooks', message: 'y' }, title: null },
    { name: 'a warning', event: { type: 'log', level: 'warn', source: 'start', message: 'y' }, title: null },
  ])('notifies of $name while no window is visible', ({ event, title }) => {
    expect(notificationFor(event, hidden)?.title ?? null).toBe(title);
  });

  it('stays quiet while a window shows the same thing', () => {
    expect(notificationFor({ type: 'prompt.opened', prompt }, { anyWindowVisible: true })).toBeNull();
  });

  it('says how a VM crashed and what failed in a hook', () => {
    expect(notificationFor({ type: 'vm.state', vm: 'web', state: 'crashed', previous: 'ready', crash: { at: '', exitCode: null, signal: 'SIGKILL', consoleTail: [], stderrTail: [] } }, hidden)?.body).toBe(
      'QEMU was killed by SIGKILL. Open Xray to see its console.',
    );
    expect(notificationFor({ type: 'hook.finished', run: run({ exitCode: 3 }) }, hidden)?.body).toBe('10-setup exited with code 3.');
    expect(notificationFor({ type: 'log', level: 'error', source: 'autostart', message: 'VM "web" did not start: no base.' }, hidden)?.body).toBe('VM "web" did not start: no base.');
  });
});

describe('notificationFor intercepted traffic', () => {
  const refused: XrayEvent = { type: 'egress.report', report: { kind: 'secret-refused', vm: 'web', host: 'paste.test', secret: 'github', place: 'host', header: 'Authorization', method: 'POST', path: '/up' } };

  it('names the request a request prompt waits on', () => {
    const spec = notificationFor({ type: 'prompt.opened', prompt: { ...prompt, request: { method: 'POST', path: '/gists' } } }, hidden);
    expect(spec).toMatchObject({ kind: 'prompt', title: '"web" wants to send POST example.com/gists', body: 'A request (curl) is waiting for your answer.' });
  });

  it('says which secret was refused where, unless an Xray window has the focus', () => {
    expect(notificationFor(refused, { anyWindowVisible: true, anyWindowFocused: false })).toEqual({
      kind: 'secret-refused',
      vm: 'web',
      title: 'Xray kept secret "github" from paste.test',
      body: 'VM "web" tried to send secret "github" to paste.test, which it is not bound to (POST /up); the request was refused. Open Xray to allow it there or keep refusing.',
      repeatKey: 'web github paste.test host',
    });
    expect(notificationFor(refused, { anyWindowVisible: true, anyWindowFocused: true })).toBeNull();
  });

  it('says nothing of a secret used as bound, or of other reports', () => {
    const used: XrayEvent = { type: 'egress.report', report: { kind: 'secret-used', vm: 'web', host: 'api.test', secret: 'github', header: 'Authorization', method: 'GET', path: '/' } };
    expect(notificationFor(used, hidden)).toBeNull();
  });

  it('lets the same refusal through once a minute, and others at once', () => {
    const gate = new RepeatGate();
    const spec = notificationFor(refused, hidden)!;
    const other = { ...spec, repeatKey: 'web github elsewhere.test host' };
    expect([gate.allows(spec, 0), gate.allows(spec, 1000), gate.allows(other, 1000), gate.allows(spec, REPEAT_QUIET_MS)]).toEqual([true, false, true, true]);
    const crash = notificationFor({ type: 'vm.state', vm: 'web', state: 'crashed', previous: 'ready' }, hidden)!;
    expect([gate.allows(crash, 0), gate.allows(crash, 0)]).toEqual([true, true]);
  });
});

describe('quit', () => {
  it('asks nothing when no VM runs', () => {
    expect(quitDialog([])).toBeNull();
  });

  it('asks to stop the running VMs, defaulting to Stop & Quit, with Cancel as the escape', () => {
    const dialog = quitDialog(['web', 'db']);
    expect(dialog).toMatchObject({ message: 'Stop 2 running VMs and quit?', buttons: ['Stop & Quit', 'Leave Running & Quit', 'Cancel'], defaultId: 0, cancelId: 2 });
    expect(quitDialog(['web'])?.message).toBe('Stop 1 running VM and quit?');
  });

  it.each([
    { response: 0, choice: 'stop-and-quit' },
    { response: 1, choice: 'leave-running' },
    { response: 2, choice: 'cancel' },
    { response: 7, choice: 'cancel' },
    { response: -1, choice: 'cancel' },
  ] as const)('reads answer $response as $choice', ({ response, choice }) => {
    expect(quitChoice(response)).toBe(choice);
  });
});

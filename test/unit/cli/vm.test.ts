// `xray start` over a fake supervisor: what it prints, and where.
import { describe, expect, it } from 'vitest';
import { FakeApi, fakeCli, summary } from '../../helpers/cli-context';

describe('xray start', () => {
  it('prints the supervisor\'s warning about this start on stderr, such as running under TCG', async () => {
    const api: FakeApi = new FakeApi({
      'vm.start': () => {
        api.emit({ type: 'log', level: 'warn', source: 'qemu', message: 'KVM cannot run aarch64 guests on an x86_64 host, so the guest is emulated; running under TCG, which is much slower.' });
        return summary('web', { state: 'booting' });
      },
    });
    const cli = fakeCli(api);
    expect(await cli.run('start', 'web')).toBe(0);
    expect(cli.stderr()).toBe('xray: warning: KVM cannot run aarch64 guests on an x86_64 host, so the guest is emulated; running under TCG, which is much slower.\n');
    expect(cli.stdout()).toBe('VM "web" is booting; SSH on 127.0.0.1:2222.\n');
    expect(api.subscribers).toBe(0);
  });

  it('leaves other parts\' messages to the daemon\'s log', async () => {
    const api: FakeApi = new FakeApi({
      'vm.start': () => {
        api.emit({ type: 'log', level: 'warn', source: 'firewall', message: 'a rule file could not be read' });
        api.emit({ type: 'log', level: 'info', source: 'qemu', message: 'started' });
        return summary('web', { state: 'booting' });
      },
    });
    const cli = fakeCli(api);
    expect(await cli.run('start', 'web', '--json')).toBe(0);
    expect(cli.stderr()).toBe('');
    expect(JSON.parse(cli.stdout())).toMatchObject({ name: 'web', state: 'booting' });
  });
});

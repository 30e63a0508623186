// `xray ssh` to a VM that is not running, over a fake API.
import { describe, expect, it } from 'vitest';
import { FakeApi, fakeCli, summary } from '../../helpers/cli-context';

describe('xray ssh', () => {
  it('refuses a stopped VM with what to do, without running ssh', async () => {
    const ran: (readonly string[])[] = [];
    const cli = fakeCli(new FakeApi({ 'vm.list': [summary('web')] }), { overrides: { runSsh: async (args) => (ran.push(args), 0) } });
    expect(await cli.run('ssh', 'web')).toBe(1);
    expect(cli.stderr()).toBe('xray: VM "web" is not running; start it with "xray start web --wait", then try again.\n');
    expect(ran).toEqual([]);
  });

  it('refuses a crashed VM the same way', async () => {
    const cli = fakeCli(new FakeApi({ 'vm.list': [summary('web', { state: 'crashed' })] }));
    expect(await cli.run('ssh', 'web', '--', 'true')).toBe(1);
    expect(cli.stderr()).toMatch(/^xray: VM "web" is not running;/);
  });
});

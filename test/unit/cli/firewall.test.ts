// `xray firewall` at a terminal and in a script, over a fake API.
import { describe, expect, it } from 'vitest';
import { FakeApi, fakeCli } from '../../helpers/cli-context';

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

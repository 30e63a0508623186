// `xray timeline` and `xray base pull`, over a fake API.
import { describe, expect, it } from 'vitest';
import { sinceFrom } from '../../../src-main/cli/commands/timeline';
import type { BaseInfo, TimelineEntry } from '../../../src-main/shared/models';
import { FakeApi, fakeCli } from '../../helpers/cli-context';

const entries: TimelineEntry[] = [
  { at: '2026-11-30T10:00:00.000Z', vm: 'web', kind: 'lifecycle', event: 'starting', detail: null },
  { at: '2026-11-30T10:01:00.000Z', vm: 'web', kind: 'network', action: 'deny', destination: { ip: '198.18.0.10', port: 443, name: 'evil.test', nameSource: 'dns', service: 'https' }, reason: 'rule evil.test', rule: 'evil.test' },
];

describe('xray timeline', () => {
  it('prints what the VM did, a line each, from the files', async () => {
    const cli = fakeCli(new FakeApi({ 'vm.timeline': entries }));
    expect(await cli.run('timeline', 'web')).toBe(0);
    expect(cli.stdout().split('\n')).toEqual([
      'WHEN                      WHAT',
      '2026-11-30T10:00:00.000Z  lifecycle  starting',
      '2026-11-30T10:01:00.000Z  network    denied evil.test:443 (rule evil.test)',
      '',
    ]);
    expect(cli.reached).toEqual(['files']);
  });

  it('takes --since as a while ago or a date', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    expect(sinceFrom('2h', now)).toBe('2026-11-30T10:00:00.000Z');
    expect(sinceFrom('2026-11-30T09:30:00Z', now)).toBe('2026-11-30T09:30:00.000Z');
    expect(() => sinceFrom('yesterday', now)).toThrow('--since takes a date and time like 2026-11-30T09:00:00Z or a while ago like 30m, 2h or 1d, not "yesterday".');
  });
});

describe('xray base pull', () => {
  const pulled: BaseInfo = { name: 'debian-12', arch: 'x86_64', virtualSize: 2 ** 31, fileSize: 2 ** 28, linked: false, source: 'https://x/y.qcow2', importedAt: null, cloudInit: true, usedBy: [] };

  it('pulls a catalog image by name and says how to use it', async () => {
    const api = new FakeApi({ 'base.pull': pulled });
    const cli = fakeCli(api);
    expect(await cli.run('base', 'pull', 'debian-12')).toBe(0);
    expect(api.callsOf('base.pull')).toEqual([{ source: 'debian-12', arch: undefined, name: undefined, checksum: undefined, checksumsUrl: undefined, insecureNoChecksum: undefined }]);
    expect(cli.stdout()).toBe('Pulled base "debian-12" (x86_64, 2.0 GiB virtual); create a VM on it with "xray create NAME --base debian-12".\n');
  });

  it('lists the catalog with what is imported', async () => {
    const cli = fakeCli(new FakeApi({ 'base.catalog': [{ name: 'debian-12', arch: 'x86_64', title: 'Debian 12 (bookworm)', url: 'u', imported: true }] }));
    expect(await cli.run('base', 'pull', '--list')).toBe(0);
    expect(cli.stdout()).toBe('NAME       ARCH    IMAGE                 IMPORTED\ndebian-12  x86_64  Debian 12 (bookworm)  yes\n');
  });
});

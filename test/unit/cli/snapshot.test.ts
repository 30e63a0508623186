// `xray snapshot list` and the snapshots in `xray info`, over a fake API.
import { describe, expect, it } from 'vitest';
import type { SnapshotInfo } from '../../../src-main/shared/models';
import { FakeApi, fakeCli, summary } from '../../helpers/cli-context';

const snapshots: SnapshotInfo[] = [
  { name: 'clean', date: '2025-03-01T10:00:00Z', vmStateSize: 0, hasMemory: false, description: 'fresh install' },
  { name: 'warm', date: '2025-03-02T11:00:00Z', vmStateSize: 512 * 1024 * 1024, hasMemory: true, description: null },
  { name: 'auto-first-boot', date: '2025-03-03T12:00:00Z', vmStateSize: 0, hasMemory: false, description: 'Taken automatically.', auto: true },
];

describe('xray snapshot list', () => {
  it('prints a header row over the snapshots, one a row', async () => {
    const cli = fakeCli(new FakeApi({ 'snapshot.list': snapshots }));
    expect(await cli.run('snapshot', 'list', 'web')).toBe(0);
    expect(cli.stdout().split('\n')).toEqual([
      'NAME             TAKEN                 ORIGIN  KIND    MEMORY   DESCRIPTION',
      'clean            2025-03-01T10:00:00Z  user    disk    -        fresh install',
      'warm             2025-03-02T11:00:00Z  user    memory  512 MiB',
      'auto-first-boot  2025-03-03T12:00:00Z  auto    disk    -        Taken automatically.',
      '',
    ]);
  });

  it('says how to take one when there are none', async () => {
    const cli = fakeCli(new FakeApi({ 'snapshot.list': [] }));
    expect(await cli.run('snapshot', 'list', 'web')).toBe(0);
    expect(cli.stdout()).toBe('VM "web" has no snapshots. Take one with "xray snapshot create web NAME".\n');
  });

  it('shows the same table, indented, in xray info', async () => {
    const cli = fakeCli(new FakeApi({ 'vm.info': { summary: summary('web'), config: {}, diskChain: [], snapshots: snapshots.slice(0, 1), autoSnapshots: { enabled: true, fromDefault: true, keep: 5 } } }));
    expect(await cli.run('info', 'web')).toBe(0);
    expect(cli.stdout()).toContain('  auto snaps  on (config.toml\'s auto_snapshots), keeping the newest 5\n');
    expect(cli.stdout()).toContain('  snapshots\n    NAME   TAKEN                 ORIGIN  KIND  MEMORY  DESCRIPTION\n    clean  2025-03-01T10:00:00Z  user    disk  -       fresh install\n');
  });
});

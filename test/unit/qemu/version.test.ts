import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Accelerator } from '../../../src-main/shared/models';
import { isXrayError } from '../../../src-main/shared/errors';
import { parseAccelHelp, parseQemuVersion, readQemuFacts, type ExecFn } from '../../../src-main/core/qemu';

const fixtures = join(__dirname, '..', '..', 'fixtures', 'qemu');
const fixture = (file: string) => readFileSync(join(fixtures, file), 'utf8');

describe('parseQemuVersion', () => {
  const cases: Array<[string, { major: number; minor: number; micro: number }]> = [
    ['qemu-system-x86_64-7.2-debian.version.txt', { major: 7, minor: 2, micro: 22 }],
    ['qemu-system-aarch64-7.2-debian.version.txt', { major: 7, minor: 2, micro: 22 }],
    ['qemu-img-7.2-debian.version.txt', { major: 7, minor: 2, micro: 22 }],
    ['hand-written-homebrew-qemu-system-aarch64-10.1.version.txt', { major: 10, minor: 1, micro: 0 }],
  ];
  for (const [file, expected] of cases) {
    it(file, () => expect(parseQemuVersion(fixture(file))).toEqual(expected));
  }

  it('returns null for text without a version', () => {
    expect(parseQemuVersion('qemu-system-x86_64: unknown option')).toBeNull();
  });
});

describe('parseAccelHelp', () => {
  const cases: Array<[string, Accelerator[]]> = [
    ['qemu-system-x86_64-7.2-debian.accel-help.txt', ['tcg', 'kvm']],
    ['qemu-system-aarch64-7.2-debian.accel-help.txt', ['tcg']],
    ['hand-written-homebrew-qemu-system-aarch64-10.1.accel-help.txt', ['hvf', 'tcg']],
  ];
  for (const [file, expected] of cases) {
    it(file, () => expect(parseAccelHelp(fixture(file))).toEqual(expected));
  }

  it('leaves out accelerators Xray does not drive', () => {
    expect(parseAccelHelp('Accelerators supported in QEMU binary:\nqtest\ntcg\nxen\n')).toEqual(['tcg']);
  });
});

describe('readQemuFacts', () => {
  const fakeExec = (version: string, accel: string): ExecFn => async (_file, args) => ({
    code: 0,
    stdout: args[0] === '--version' ? version : accel,
    stderr: '',
  });

  it('reads version and accelerators from the binary', async () => {
    const facts = await readQemuFacts(
      'qemu-system-x86_64',
      fakeExec(fixture('qemu-system-x86_64-7.2-debian.version.txt'), fixture('qemu-system-x86_64-7.2-debian.accel-help.txt')),
    );
    expect(facts).toEqual({ version: { major: 7, minor: 2, micro: 22 }, accelerators: ['tcg', 'kvm'] });
  });

  it('refuses a QEMU older than 7.2 with a sentence saying to upgrade', async () => {
    const err = await readQemuFacts('/usr/bin/qemu-system-x86_64', fakeExec('QEMU emulator version 6.2.0\n', 'tcg\n')).catch((e: unknown) => e);
    expect(isXrayError(err) && err.code).toBe('unsupported');
    expect((err as Error).message).toBe(
      '/usr/bin/qemu-system-x86_64 is QEMU 6.2.0, older than the 7.2.0 Xray needs; upgrade QEMU.',
    );
  });
});

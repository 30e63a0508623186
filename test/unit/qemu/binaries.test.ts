import { describe, expect, it } from 'vitest';
import { isXrayError } from '../../../src-main/shared/errors';
import { findNetcat, findQemuBinaries, supportsUnixSockets, type ExecFn } from '../../../src-main/core/qemu';

const allTools = (dir: string) => ['qemu-img', 'qemu-system-aarch64', 'qemu-system-x86_64'].map((t) => `${dir}/${t}`);

describe('findQemuBinaries', () => {
  const cases: Array<{ name: string; env: NodeJS.ProcessEnv; files: string[]; dir: string }> = [
    {
      name: 'XRAY_QEMU_DIR comes first',
      env: { XRAY_QEMU_DIR: '/opt/qemu-src/bin', PATH: '/usr/bin' },
      files: [...allTools('/opt/qemu-src/bin'), ...allTools('/usr/bin')],
      dir: '/opt/qemu-src/bin',
    },
    {
      name: 'then PATH, in order',
      env: { PATH: '/home/u/bin:/usr/bin' },
      files: [...allTools('/usr/bin'), ...allTools('/home/u/bin'), ...allTools('/opt/homebrew/bin')],
      dir: '/home/u/bin',
    },
    {
      name: 'then Homebrew on Apple Silicon, for an app started with a short PATH',
      env: { PATH: '/usr/bin:/bin' },
      files: [...allTools('/opt/homebrew/bin'), ...allTools('/usr/local/bin')],
      dir: '/opt/homebrew/bin',
    },
    {
      name: 'then Homebrew on Intel',
      env: { PATH: '/usr/bin:/bin' },
      files: allTools('/usr/local/bin'),
      dir: '/usr/local/bin',
    },
    {
      name: 'an XRAY_QEMU_DIR without QEMU falls through to PATH',
      env: { XRAY_QEMU_DIR: '/nowhere', PATH: '/usr/bin' },
      files: allTools('/usr/bin'),
      dir: '/usr/bin',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const files = new Set(c.files);
      const binaries = findQemuBinaries({ env: c.env, exists: (p) => files.has(p) });
      expect(binaries.qemuImg).toBe(`${c.dir}/qemu-img`);
      expect(binaries.systemFor('aarch64')).toBe(`${c.dir}/qemu-system-aarch64`);
      expect(binaries.systemFor('x86_64')).toBe(`${c.dir}/qemu-system-x86_64`);
    });
  }

  const missing: Array<{ name: string; files: string[]; act: (b: ReturnType<typeof findQemuBinaries>) => unknown; message: string }> = [
    {
      name: 'qemu-system-aarch64',
      files: ['/usr/bin/qemu-img', '/usr/bin/qemu-system-x86_64'],
      act: (b) => b.systemFor('aarch64'),
      message: 'qemu-system-aarch64 was not found; install QEMU (macOS: "brew install qemu"; Debian: "apt install qemu-system-arm") or set XRAY_QEMU_DIR.',
    },
    {
      name: 'qemu-system-x86_64',
      files: ['/usr/bin/qemu-img', '/usr/bin/qemu-system-aarch64'],
      act: (b) => b.systemFor('x86_64'),
      message: 'qemu-system-x86_64 was not found; install QEMU (macOS: "brew install qemu"; Debian: "apt install qemu-system-x86") or set XRAY_QEMU_DIR.',
    },
  ];
  for (const c of missing) {
    it(`missing ${c.name} names its package, and only when that arch is asked for`, () => {
      const files = new Set(c.files);
      const binaries = findQemuBinaries({ env: { PATH: '/usr/bin' }, exists: (p) => files.has(p) });
      let thrown: unknown;
      try {
        c.act(binaries);
      } catch (err) {
        thrown = err;
      }
      expect(isXrayError(thrown) && thrown.code).toBe('missing-dependency');
      expect((thrown as Error).message).toBe(c.message);
    });
  }

  it('missing qemu-img fails at once, naming qemu-utils', () => {
    expect(() => findQemuBinaries({ env: { PATH: '/usr/bin' }, exists: () => false })).toThrow(
      'qemu-img was not found; install QEMU (macOS: "brew install qemu"; Debian: "apt install qemu-utils") or set XRAY_QEMU_DIR.',
    );
  });
});

const OPENBSD_HELP = 'OpenBSD netcat (Debian patchlevel 1.219-1)\nusage: nc [-46CDdFhklNnrStUuvZz] [-I length]\n\t\t-U\t\tUse UNIX domain socket\n';
const GNU_HELP = 'GNU netcat 0.7.1, a rewrite of the famous networking tool.\nusage: netcat [options] hostname port\n  -u, --udp                  UDP mode\n';

describe('findNetcat', () => {
  it('recognises -U in OpenBSD help and not in GNU help', () => {
    expect(supportsUnixSockets(OPENBSD_HELP)).toBe(true);
    expect(supportsUnixSockets(GNU_HELP)).toBe(false);
  });

  it('skips a netcat without -U and takes the next one, reading help from stderr too', async () => {
    const files = new Set(['/usr/local/bin/nc', '/usr/bin/nc', '/usr/bin/nc.openbsd']);
    const exec: ExecFn = async (file) =>
      file === '/usr/local/bin/nc' ? { code: 1, stdout: GNU_HELP, stderr: '' } : { code: 1, stdout: '', stderr: OPENBSD_HELP };
    const found = await findNetcat({ env: { PATH: '/usr/local/bin:/usr/bin' }, exists: (p) => files.has(p), exec });
    expect(found).toBe('/usr/bin/nc');
  });

  it('says to install netcat-openbsd when none has -U', async () => {
    const exec: ExecFn = async () => ({ code: 0, stdout: GNU_HELP, stderr: '' });
    const err = await findNetcat({ env: { PATH: '/usr/bin' }, exists: () => true, exec }).catch((e: unknown) => e);
    expect(isXrayError(err) && err.code).toBe('missing-dependency');
    expect((err as Error).message).toContain('apt install netcat-openbsd');
  });

  it('finds this host\'s OpenBSD netcat for real', async () => {
    expect(await findNetcat()).toMatch(/\/nc(\.openbsd)?$/);
  });
});

import { describe, expect, it } from 'vitest';
import type { GuestArch } from '../../../src-main/shared/models';
import { isXrayError } from '../../../src-main/shared/errors';
import { efiVarsVirtualSize, findFirmware, type Firmware } from '../../../src-main/core/qemu';

interface Layout {
  readonly name: string;
  readonly platform: NodeJS.Platform;
  readonly qemuBinary?: string;
  readonly files: readonly string[];
  readonly overrides?: Record<string, string>;
  readonly expected: Partial<Record<GuestArch, Firmware>>;
}

const debianFiles = [
  '/usr/share/AAVMF/AAVMF_CODE.fd',
  '/usr/share/AAVMF/AAVMF_VARS.fd',
  '/usr/share/OVMF/OVMF_CODE_4M.fd',
  '/usr/share/OVMF/OVMF_VARS_4M.fd',
  '/usr/share/OVMF/OVMF_CODE.fd',
  '/usr/share/OVMF/OVMF_VARS.fd',
];

const layouts: Layout[] = [
  {
    name: 'Homebrew on Apple Silicon',
    platform: 'darwin',
    qemuBinary: '/opt/homebrew/bin/qemu-system-aarch64',
    files: ['aarch64-code.fd', 'arm-vars.fd', 'x86_64-code.fd', 'i386-vars.fd'].map((f) => `/opt/homebrew/share/qemu/edk2-${f}`),
    expected: {
      aarch64: { code: '/opt/homebrew/share/qemu/edk2-aarch64-code.fd', varsTemplate: '/opt/homebrew/share/qemu/edk2-arm-vars.fd' },
      x86_64: { code: '/opt/homebrew/share/qemu/edk2-x86_64-code.fd', varsTemplate: '/opt/homebrew/share/qemu/edk2-i386-vars.fd' },
    },
  },
  {
    name: 'Homebrew on Intel, found without knowing the binary',
    platform: 'darwin',
    files: ['aarch64-code.fd', 'arm-vars.fd', 'x86_64-code.fd', 'i386-vars.fd'].map((f) => `/usr/local/share/qemu/edk2-${f}`),
    expected: {
      aarch64: { code: '/usr/local/share/qemu/edk2-aarch64-code.fd', varsTemplate: '/usr/local/share/qemu/edk2-arm-vars.fd' },
      x86_64: { code: '/usr/local/share/qemu/edk2-x86_64-code.fd', varsTemplate: '/usr/local/share/qemu/edk2-i386-vars.fd' },
    },
  },
  {
    name: 'Homebrew Cellar binary prefers its own share dir',
    platform: 'darwin',
    qemuBinary: '/opt/homebrew/Cellar/qemu/10.1.0/bin/qemu-system-aarch64',
    files: [
      '/opt/homebrew/Cellar/qemu/10.1.0/share/qemu/edk2-aarch64-code.fd',
      '/opt/homebrew/Cellar/qemu/10.1.0/share/qemu/edk2-arm-vars.fd',
      '/opt/homebrew/share/qemu/edk2-aarch64-code.fd',
      '/opt/homebrew/share/qemu/edk2-arm-vars.fd',
    ],
    expected: {
      aarch64: {
        code: '/opt/homebrew/Cellar/qemu/10.1.0/share/qemu/edk2-aarch64-code.fd',
        varsTemplate: '/opt/homebrew/Cellar/qemu/10.1.0/share/qemu/edk2-arm-vars.fd',
      },
    },
  },
  {
    name: 'Debian (4 MiB OVMF preferred)',
    platform: 'linux',
    qemuBinary: '/usr/bin/qemu-system-x86_64',
    files: debianFiles,
    expected: {
      aarch64: { code: '/usr/share/AAVMF/AAVMF_CODE.fd', varsTemplate: '/usr/share/AAVMF/AAVMF_VARS.fd' },
      x86_64: { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
    },
  },
  {
    name: 'older Debian with only the 2 MiB OVMF',
    platform: 'linux',
    files: ['/usr/share/OVMF/OVMF_CODE.fd', '/usr/share/OVMF/OVMF_VARS.fd'],
    expected: { x86_64: { code: '/usr/share/OVMF/OVMF_CODE.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS.fd' } },
  },
  {
    name: 'Fedora',
    platform: 'linux',
    files: [
      '/usr/share/edk2/aarch64/QEMU_EFI-pflash.raw',
      '/usr/share/edk2/aarch64/vars-template-pflash.raw',
      '/usr/share/edk2/ovmf/OVMF_CODE.fd',
      '/usr/share/edk2/ovmf/OVMF_VARS.fd',
    ],
    expected: {
      aarch64: { code: '/usr/share/edk2/aarch64/QEMU_EFI-pflash.raw', varsTemplate: '/usr/share/edk2/aarch64/vars-template-pflash.raw' },
      x86_64: { code: '/usr/share/edk2/ovmf/OVMF_CODE.fd', varsTemplate: '/usr/share/edk2/ovmf/OVMF_VARS.fd' },
    },
  },
  {
    name: 'Arch',
    platform: 'linux',
    files: [
      '/usr/share/edk2/aarch64/QEMU_CODE.fd',
      '/usr/share/edk2/aarch64/QEMU_VARS.fd',
      '/usr/share/edk2/x64/OVMF_CODE.4m.fd',
      '/usr/share/edk2/x64/OVMF_VARS.4m.fd',
    ],
    expected: {
      aarch64: { code: '/usr/share/edk2/aarch64/QEMU_CODE.fd', varsTemplate: '/usr/share/edk2/aarch64/QEMU_VARS.fd' },
      x86_64: { code: '/usr/share/edk2/x64/OVMF_CODE.4m.fd', varsTemplate: '/usr/share/edk2/x64/OVMF_VARS.4m.fd' },
    },
  },
  {
    name: 'code and vars never mixed across families',
    platform: 'linux',
    files: ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS.fd', '/usr/share/edk2/ovmf/OVMF_CODE.fd', '/usr/share/edk2/ovmf/OVMF_VARS.fd'],
    expected: { x86_64: { code: '/usr/share/edk2/ovmf/OVMF_CODE.fd', varsTemplate: '/usr/share/edk2/ovmf/OVMF_VARS.fd' } },
  },
  {
    name: 'config override wins over installed firmware',
    platform: 'linux',
    files: [...debianFiles, '/fw/code.fd', '/fw/vars.fd'],
    overrides: { x86_64_code: '/fw/code.fd', x86_64_vars: '/fw/vars.fd' },
    expected: {
      x86_64: { code: '/fw/code.fd', varsTemplate: '/fw/vars.fd' },
      aarch64: { code: '/usr/share/AAVMF/AAVMF_CODE.fd', varsTemplate: '/usr/share/AAVMF/AAVMF_VARS.fd' },
    },
  },
];

describe('findFirmware', () => {
  for (const layout of layouts) {
    for (const [arch, expected] of Object.entries(layout.expected) as Array<[GuestArch, Firmware]>) {
      it(`${layout.name}: ${arch}`, () => {
        const files = new Set(layout.files);
        const found = findFirmware(arch, {
          platform: layout.platform,
          exists: (p) => files.has(p),
          overrides: layout.overrides,
          qemuBinary: layout.qemuBinary,
        });
        expect(found).toEqual(expected);
      });
    }
  }

  const missing: Array<{ arch: GuestArch; platform: NodeJS.Platform; message: string }> = [
    {
      arch: 'x86_64',
      platform: 'linux',
      message:
        'No UEFI firmware for x86_64 guests was found; install it ("apt install ovmf", "dnf install edk2-ovmf" or "pacman -S edk2-ovmf") or set x86_64_code and x86_64_vars under [firmware] in config.toml.',
    },
    {
      arch: 'aarch64',
      platform: 'linux',
      message:
        'No UEFI firmware for aarch64 guests was found; install it ("apt install qemu-efi-aarch64", "dnf install edk2-aarch64" or "pacman -S edk2-aarch64") or set aarch64_code and aarch64_vars under [firmware] in config.toml.',
    },
    {
      arch: 'aarch64',
      platform: 'darwin',
      message:
        'No UEFI firmware for aarch64 guests was found; install it ("brew install qemu") or set aarch64_code and aarch64_vars under [firmware] in config.toml.',
    },
  ];
  for (const c of missing) {
    it(`none on ${c.platform} for ${c.arch}: names the package and the config keys`, () => {
      let thrown: unknown;
      try {
        findFirmware(c.arch, { platform: c.platform, exists: () => false });
      } catch (err) {
        thrown = err;
      }
      expect(isXrayError(thrown) && thrown.code).toBe('missing-dependency');
      expect((thrown as Error).message).toBe(c.message);
    });
  }

  it('rejects an override naming only the code image', () => {
    expect(() => findFirmware('aarch64', { exists: () => true, overrides: { aarch64_code: '/fw/code.fd' } })).toThrow(
      /sets only one of firmware.aarch64_code and firmware.aarch64_vars/,
    );
  });

  it('rejects an override pointing at a missing file', () => {
    expect(() =>
      findFirmware('aarch64', {
        exists: (p) => p === '/fw/code.fd',
        overrides: { aarch64_code: '/fw/code.fd', aarch64_vars: '/fw/gone.fd' },
      }),
    ).toThrow('The UEFI firmware file /fw/gone.fd set in config.toml does not exist; fix firmware.aarch64_code and firmware.aarch64_vars.');
  });
});

describe('efiVarsVirtualSize', () => {
  it('is 64 MiB for aarch64 whatever the template, the template size for x86_64', () => {
    expect(efiVarsVirtualSize('aarch64', 768 * 1024)).toBe(67108864);
    expect(efiVarsVirtualSize('x86_64', 540672)).toBe(540672);
  });
});

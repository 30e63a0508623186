// Runs in: plain Node (core).
import { dirname, join } from 'node:path';
import type { GuestArch } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { isReadableFile, type ExistsFn } from './exec';

/** Firmware is a UEFI code image and the variable-store template built with it. */
export interface Firmware {
  readonly code: string;
  readonly varsTemplate: string;
}

export interface FirmwareOptions {
  readonly platform?: NodeJS.Platform;
  readonly exists?: ExistsFn;
  /** overrides come from config.toml's [firmware] table: `${arch}_code` and `${arch}_vars`. */
  readonly overrides?: Readonly<Record<string, string>>;
  /** qemuBinary lets firmware shipped beside that QEMU (PREFIX/share/qemu) win. */
  readonly qemuBinary?: string;
}

/**
 * AARCH64_PFLASH_BYTES is the size QEMU's virt machine demands of each pflash
 * image ("device requires 67108864 bytes, block backend provides …"); a qcow2
 * variable store for an aarch64 guest must have exactly this virtual size.
 * x86 (q35) pflash takes the template's own size.
 */
export const AARCH64_PFLASH_BYTES = 64 * 1024 * 1024;

/** efiVarsVirtualSize is the virtual size a per-VM qcow2 variable store must have. */
export function efiVarsVirtualSize(arch: GuestArch, templateBytes: number): number {
  return arch === 'aarch64' ? AARCH64_PFLASH_BYTES : templateBytes;
}

/**
 * Pairs are listed by family: a vars template only fits the code image it was
 * built with (its size and layout must match), so code and vars are never mixed
 * across families.
 */
const HOMEBREW_FILES: Record<GuestArch, { code: string; vars: string }> = {
  aarch64: { code: 'edk2-aarch64-code.fd', vars: 'edk2-arm-vars.fd' },
  x86_64: { code: 'edk2-x86_64-code.fd', vars: 'edk2-i386-vars.fd' },
};

const HOMEBREW_SHARE_DIRS = ['/opt/homebrew/share/qemu', '/usr/local/share/qemu'] as const;

/**
 * DISTRO_PAIRS are the Linux packages' files. x86 pairs are the non-Secure-Boot
 * builds, which run on q35 without SMM.
 */
const DISTRO_PAIRS: Record<GuestArch, readonly Firmware[]> = {
  aarch64: [
    // Debian/Ubuntu: qemu-efi-aarch64
    { code: '/usr/share/AAVMF/AAVMF_CODE.fd', varsTemplate: '/usr/share/AAVMF/AAVMF_VARS.fd' },
    // Fedora: edk2-aarch64
    { code: '/usr/share/edk2/aarch64/QEMU_EFI-pflash.raw', varsTemplate: '/usr/share/edk2/aarch64/vars-template-pflash.raw' },
    // Arch: edk2-aarch64
    { code: '/usr/share/edk2/aarch64/QEMU_CODE.fd', varsTemplate: '/usr/share/edk2/aarch64/QEMU_VARS.fd' },
  ],
  x86_64: [
    // Debian/Ubuntu: ovmf (4 MiB layout, then the older 2 MiB one)
    { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
    { code: '/usr/share/OVMF/OVMF_CODE.fd', varsTemplate: '/usr/share/OVMF/OVMF_VARS.fd' },
    // Fedora: edk2-ovmf
    { code: '/usr/share/edk2/ovmf/OVMF_CODE.fd', varsTemplate: '/usr/share/edk2/ovmf/OVMF_VARS.fd' },
    // Arch: edk2-ovmf
    { code: '/usr/share/edk2/x64/OVMF_CODE.4m.fd', varsTemplate: '/usr/share/edk2/x64/OVMF_VARS.4m.fd' },
  ],
};

function homebrewPair(arch: GuestArch, shareDir: string): Firmware {
  const files = HOMEBREW_FILES[arch];
  return { code: join(shareDir, files.code), varsTemplate: join(shareDir, files.vars) };
}

/**
 * firmwareCandidates lists pairs in the order they are tried: the firmware
 * installed with the QEMU binary in use first (PREFIX/bin/qemu → PREFIX/share/qemu,
 * which also covers a Homebrew Cellar path), then the host's usual places.
 */
export function firmwareCandidates(arch: GuestArch, platform: NodeJS.Platform, qemuBinary?: string): Firmware[] {
  const shareDirs = qemuBinary ? [join(dirname(dirname(qemuBinary)), 'share', 'qemu')] : [];
  const homebrew = [...new Set([...shareDirs, ...HOMEBREW_SHARE_DIRS])].map((dir) => homebrewPair(arch, dir));
  const distro = DISTRO_PAIRS[arch];
  if (platform === 'darwin') return [...homebrew, ...distro];
  const own = shareDirs.map((dir) => homebrewPair(arch, dir));
  const rest = homebrew.slice(own.length);
  return [...own, ...distro, ...rest];
}

export function firmwareOverrideKeys(arch: GuestArch): { code: string; vars: string } {
  return { code: `${arch}_code`, vars: `${arch}_vars` };
}

function installHint(arch: GuestArch, platform: NodeJS.Platform): string {
  if (platform === 'darwin') return '"brew install qemu"';
  return arch === 'aarch64'
    ? '"apt install qemu-efi-aarch64", "dnf install edk2-aarch64" or "pacman -S edk2-aarch64"'
    : '"apt install ovmf", "dnf install edk2-ovmf" or "pacman -S edk2-ovmf"';
}

/**
 * findFirmware returns the UEFI code image and vars template for a guest arch.
 * A configured pair wins and must be complete and present; otherwise the first
 * candidate pair whose two files both exist.
 */
export function findFirmware(arch: GuestArch, opts: FirmwareOptions = {}): Firmware {
  const platform = opts.platform ?? process.platform;
  const exists = opts.exists ?? isReadableFile;
  const keys = firmwareOverrideKeys(arch);
  const code = opts.overrides?.[keys.code];
  const vars = opts.overrides?.[keys.vars];
  if (code !== undefined || vars !== undefined) {
    if (code === undefined || vars === undefined) {
      throw new XrayError(
        'invalid-argument',
        `config.toml sets only one of firmware.${keys.code} and firmware.${keys.vars}; set both, to a code image and the vars template built with it.`,
      );
    }
    for (const path of [code, vars]) {
      if (!exists(path)) {
        throw new XrayError('not-found', `The UEFI firmware file ${path} set in config.toml does not exist; fix firmware.${keys.code} and firmware.${keys.vars}.`);
      }
    }
    return { code, varsTemplate: vars };
  }
  const found = firmwareCandidates(arch, platform, opts.qemuBinary).find(
    (pair) => exists(pair.code) && exists(pair.varsTemplate),
  );
  if (found) return found;
  throw new XrayError(
    'missing-dependency',
    `No UEFI firmware for ${arch} guests was found; install it (${installHint(arch, platform)}) or set ${keys.code} and ${keys.vars} under [firmware] in config.toml.`,
  );
}

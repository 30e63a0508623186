// Runs in: plain Node (core).
import type { Accelerator } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { execCollect, type ExecFn } from './exec';

export interface QemuVersion {
  readonly major: number;
  readonly minor: number;
  readonly micro: number;
}

/**
 * MIN_QEMU_VERSION is the oldest QEMU the argv builder is tested against
 * (Debian 12's 7.2); it has snapshot-save jobs (6.0+) and vvfat labels.
 */
export const MIN_QEMU_VERSION: QemuVersion = { major: 7, minor: 2, micro: 0 };

/**
 * parseQemuVersion reads `qemu-system-* --version` or `qemu-img --version`
 * output ("QEMU emulator version 7.2.22 (Debian …)", "qemu-img version 10.1.0"),
 * or null when the text has no version line.
 */
export function parseQemuVersion(text: string): QemuVersion | null {
  const match = /\bversion (\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return null;
  return { major: Number(match[1]), minor: Number(match[2]), micro: Number(match[3] ?? 0) };
}

/** versionAtLeast compares versions field by field. */
export function versionAtLeast(version: QemuVersion, min: QemuVersion): boolean {
  if (version.major !== min.major) return version.major > min.major;
  if (version.minor !== min.minor) return version.minor > min.minor;
  return version.micro >= min.micro;
}

export function formatVersion(version: QemuVersion): string {
  return `${version.major}.${version.minor}.${version.micro}`;
}

const KNOWN_ACCELERATORS: readonly Accelerator[] = ['hvf', 'kvm', 'tcg'];

/**
 * parseAccelHelp reads `qemu-system-* -accel help`: a heading, then one
 * accelerator per line. Accelerators Xray does not drive (xen, qtest, whpx, …)
 * are left out; the order QEMU printed is kept.
 */
export function parseAccelHelp(text: string): Accelerator[] {
  const found: Accelerator[] = [];
  for (const line of text.split('\n')) {
    const word = line.trim() as Accelerator;
    if (KNOWN_ACCELERATORS.includes(word) && !found.includes(word)) found.push(word);
  }
  return found;
}

/** QemuFacts is what a QEMU binary says about itself. */
export interface QemuFacts {
  readonly version: QemuVersion;
  readonly accelerators: Accelerator[];
}

/**
 * readQemuFacts asks a qemu-system binary for its version and accelerators and
 * refuses a QEMU older than MIN_QEMU_VERSION, whose command line differs.
 */
export async function readQemuFacts(binary: string, exec: ExecFn = execCollect): Promise<QemuFacts> {
  const versionRun = await exec(binary, ['--version']).catch((err: unknown) => {
    throw new XrayError('missing-dependency', `${binary} could not be started (${String(err)}); reinstall QEMU or set XRAY_QEMU_DIR.`, { cause: err });
  });
  const version = parseQemuVersion(versionRun.stdout);
  if (!version) {
    throw new XrayError('qemu', `${binary} --version printed no version; check that it is a working QEMU.`);
  }
  if (!versionAtLeast(version, MIN_QEMU_VERSION)) {
    throw new XrayError(
      'unsupported',
      `${binary} is QEMU ${formatVersion(version)}, older than the ${formatVersion(MIN_QEMU_VERSION)} Xray needs; upgrade QEMU.`,
    );
  }
  const accelRun = await exec(binary, ['-accel', 'help']);
  return { version, accelerators: parseAccelHelp(accelRun.stdout) };
}

// Runs in: renderer (pure). Which architecture's images the catalog lists
// first, and the words for each.
import type { ClientPlatform } from '../../src-main/shared/client';
import type { GuestArch } from '../../src-main/shared/models';

export const archLabels: Readonly<Record<GuestArch, string>> = { aarch64: 'ARM (aarch64)', x86_64: 'Intel or AMD (x86_64)' };

/**
 * likelyArch guesses the architecture of this computer, whose images run
 * natively while the others are emulated, slowly. The API does not say, and
 * the browser cannot tell: navigator.platform is "MacIntel" on Apple silicon
 * too. So: the Mac app is built for Apple silicon only (electron-builder.yml);
 * elsewhere, the architecture most of the bases and VMs here have (a base
 * imported without one is the host's); else the Linux app is taken for
 * x86_64 (its packages are built for it), and in a browser a Mac for Apple
 * silicon (every Mac sold since 2023) and anything else for x86_64. Both
 * architectures are listed either way, so a wrong guess costs a click, not an
 * image.
 */
export function likelyArch(platform: ClientPlatform, known: readonly GuestArch[], userAgent: string): GuestArch {
  if (platform === 'darwin') return 'aarch64';
  const arm = known.filter((a) => a === 'aarch64').length;
  if (arm * 2 > known.length) return 'aarch64';
  if (arm * 2 < known.length) return 'x86_64';
  return platform === 'browser' && /Macintosh/.test(userAgent) ? 'aarch64' : 'x86_64';
}

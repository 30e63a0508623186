// Runs in: anywhere (pure). The official cloud images `base pull NAME` knows.
import type { GuestArch } from './models';

/**
 * CatalogImage is one official cloud image Xray knows how to get: where it
 * is, and where its vendor publishes the checksums that vouch for it.
 */
export interface CatalogImage {
  /** name is what `xray base pull NAME` takes and what the base is called. */
  readonly name: string;
  readonly arch: GuestArch;
  readonly title: string;
  readonly url: string;
  /** checksums is the vendor's SHA256SUMS / SHA512SUMS file listing the image. */
  readonly checksums: string;
}

const DEBIAN = 'https://cloud.debian.org/images/cloud';
const UBUNTU = 'https://cloud-images.ubuntu.com/releases';

/**
 * IMAGE_CATALOG is the built-in list: Debian 12 and 13, Ubuntu 24.04 LTS, for
 * both architectures. Debian's `generic` images, not `genericcloud`: the
 * cloud kernel has no 9p, so shared folders could not be mounted.
 */
export const IMAGE_CATALOG: readonly CatalogImage[] = [
  ...(['aarch64', 'x86_64'] as const).flatMap((arch): CatalogImage[] => {
    const debianArch = arch === 'aarch64' ? 'arm64' : 'amd64';
    return [
      { name: 'debian-12', arch, title: 'Debian 12 (bookworm)', url: `${DEBIAN}/bookworm/latest/debian-12-generic-${debianArch}.qcow2`, checksums: `${DEBIAN}/bookworm/latest/SHA512SUMS` },
      { name: 'debian-13', arch, title: 'Debian 13 (trixie)', url: `${DEBIAN}/trixie/latest/debian-13-generic-${debianArch}.qcow2`, checksums: `${DEBIAN}/trixie/latest/SHA512SUMS` },
      { name: 'ubuntu-24.04', arch, title: 'Ubuntu 24.04 LTS', url: `${UBUNTU}/24.04/release/ubuntu-24.04-server-cloudimg-${debianArch}.img`, checksums: `${UBUNTU}/24.04/release/SHA256SUMS` },
    ];
  }),
];

/** findCatalogImage looks a name up for an architecture; null when the catalog has no such image. */
export function findCatalogImage(name: string, arch: GuestArch): CatalogImage | null {
  return IMAGE_CATALOG.find((image) => image.name === name && image.arch === arch) ?? null;
}

/** CATALOG_NAMES are the names `base pull` takes, once each, in catalog order. */
export const CATALOG_NAMES: readonly string[] = [...new Set(IMAGE_CATALOG.map((image) => image.name))];

// Which architecture's images the catalog lists first.
import { describe, expect, it } from 'vitest';
import type { ClientPlatform } from '../../../src-main/shared/client';
import type { GuestArch } from '../../../src-main/shared/models';
import { likelyArch } from '../../../src-renderer/views/catalog-arch';

const MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36';
const LINUX = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36';

describe('likelyArch', () => {
  const cases: [string, ClientPlatform, GuestArch[], string, GuestArch][] = [
    ['the Mac app, whatever the bases', 'darwin', ['x86_64', 'x86_64'], MAC, 'aarch64'],
    ['the Linux app with nothing here yet', 'linux', [], LINUX, 'x86_64'],
    ['the Linux app with ARM bases (built from source on ARM)', 'linux', ['aarch64'], LINUX, 'aarch64'],
    ['a browser, by most of the bases and VMs here', 'browser', ['aarch64', 'x86_64', 'aarch64'], LINUX, 'aarch64'],
    ['a browser on a Mac with nothing here', 'browser', [], MAC, 'aarch64'],
    ['a browser on a Mac with x86_64 bases', 'browser', ['x86_64'], MAC, 'x86_64'],
    ['a browser elsewhere with nothing here', 'browser', [], LINUX, 'x86_64'],
  ];
  for (const [what, platform, known, agent, arch] of cases) {
    it(`is ${arch} for ${what}`, () => expect(likelyArch(platform, known, agent)).toBe(arch));
  }
});

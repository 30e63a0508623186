import { describe, expect, it } from 'vitest';
import { fitVmDefaults } from '../../../src-main/shared/vm';

describe('fitVmDefaults', () => {
  it.each([
    [{ totalMemoryMb: 24_000, cpuCount: 2 }, { memoryMb: 4096, cpus: 2 }],
    [{ totalMemoryMb: 65_536, cpuCount: 16 }, { memoryMb: 4096, cpus: 4 }],
    [{ totalMemoryMb: 4096, cpuCount: 8 }, { memoryMb: 2048, cpus: 4 }],
    [{ totalMemoryMb: 3000, cpuCount: 1 }, { memoryMb: 1280, cpus: 1 }],
    [{ totalMemoryMb: 200, cpuCount: 1 }, { memoryMb: 128, cpus: 1 }],
  ])('fits a host with %o to %o', (host, expected) => {
    expect(fitVmDefaults(host)).toEqual({ ...expected, sshUser: 'ubuntu' });
  });
});

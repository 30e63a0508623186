import { describe, expect, it, vi } from 'vitest';
import type { Accelerator, GuestArch } from '../../../src-main/shared/models';
import { AcceleratorProber, qemuComplaint, type AccelOptions } from '../../../src-main/core/qemu';

interface Case {
  readonly name: string;
  readonly platform: NodeJS.Platform;
  readonly arch: GuestArch;
  readonly hostArch: GuestArch;
  readonly accelHelp: Accelerator[];
  readonly kvmFailure?: string | null;
  readonly accel: Accelerator;
  readonly warning: string | null;
  readonly probes: number;
}

const cases: Case[] = [
  { name: 'hvf on an Apple Silicon Mac', platform: 'darwin', arch: 'aarch64', hostArch: 'aarch64', accelHelp: ['hvf', 'tcg'], accel: 'hvf', warning: null, probes: 0 },
  {
    name: 'x86 guest on an Apple Silicon Mac is emulated',
    platform: 'darwin', arch: 'x86_64', hostArch: 'aarch64', accelHelp: ['hvf', 'tcg'], accel: 'tcg', probes: 0,
    warning: 'HVF cannot run x86_64 guests on an aarch64 Mac, so the guest is emulated; running under TCG, which is much slower.',
  },
  {
    name: 'a QEMU without HVF on a Mac',
    platform: 'darwin', arch: 'aarch64', hostArch: 'aarch64', accelHelp: ['tcg'], accel: 'tcg', probes: 0,
    warning: 'qemu-system-aarch64 was built without HVF support; running under TCG, which is much slower.',
  },
  { name: 'kvm on Linux when the probe VM runs', platform: 'linux', arch: 'x86_64', hostArch: 'x86_64', accelHelp: ['tcg', 'kvm'], kvmFailure: null, accel: 'kvm', warning: null, probes: 1 },
  {
    name: 'tcg when /dev/kvm exists but the probe VM fails (nested host)',
    platform: 'linux', arch: 'x86_64', hostArch: 'x86_64', accelHelp: ['tcg', 'kvm'], accel: 'tcg', probes: 1,
    kvmFailure: 'KVM is present but does not work here (failed to set MSR 0x10a to 0x69)',
    warning: 'KVM is present but does not work here (failed to set MSR 0x10a to 0x69); running under TCG, which is much slower.',
  },
  {
    name: 'aarch64 guest on an x86_64 Linux host is emulated without probing',
    platform: 'linux', arch: 'aarch64', hostArch: 'x86_64', accelHelp: ['tcg'], accel: 'tcg', probes: 0,
    warning: 'KVM cannot run aarch64 guests on an x86_64 host, so the guest is emulated; running under TCG, which is much slower.',
  },
  {
    name: 'a QEMU without KVM on Linux',
    platform: 'linux', arch: 'x86_64', hostArch: 'x86_64', accelHelp: ['tcg'], accel: 'tcg', probes: 0,
    warning: 'qemu-system-x86_64 was built without KVM support; running under TCG, which is much slower.',
  },
  {
    name: 'another OS',
    platform: 'freebsd', arch: 'x86_64', hostArch: 'x86_64', accelHelp: ['tcg'], accel: 'tcg', probes: 0,
    warning: 'Xray knows no hardware accelerator for freebsd hosts; running under TCG, which is much slower.',
  },
];

describe('AcceleratorProber', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const probeKvm = vi.fn(async () => c.kvmFailure ?? null);
      const opts: AccelOptions = {
        platform: c.platform,
        arch: c.arch,
        hostArch: c.hostArch,
        binary: `/usr/bin/qemu-system-${c.arch}`,
        accelHelp: c.accelHelp,
        probeKvm,
      };
      expect(await new AcceleratorProber().probe(opts)).toEqual({ accel: c.accel, warning: c.warning });
      expect(probeKvm).toHaveBeenCalledTimes(c.probes);
    });
  }

  it('probes KVM once per binary for the life of the prober', async () => {
    const prober = new AcceleratorProber();
    const probeKvm = vi.fn(async () => null);
    const opts = (binary: string): AccelOptions => ({
      platform: 'linux', arch: 'x86_64', hostArch: 'x86_64', binary, accelHelp: ['kvm', 'tcg'], probeKvm,
    });
    await Promise.all([prober.probe(opts('/a/qemu-system-x86_64')), prober.probe(opts('/a/qemu-system-x86_64'))]);
    await prober.probe(opts('/a/qemu-system-x86_64'));
    expect(probeKvm).toHaveBeenCalledTimes(1);
    await prober.probe(opts('/b/qemu-system-x86_64'));
    expect(probeKvm).toHaveBeenCalledTimes(2);
  });
});

describe('qemuComplaint', () => {
  const cases: Array<[string, string | null]> = [
    [
      "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.01H:ECX.pni [bit 0]\nKVM internal error. Suberror: 1\nextra data[0]: 0x1\nemulation failure\n",
      'KVM internal error. Suberror: 1',
    ],
    [
      "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\nqemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.\n",
      'failed to set MSR 0x10a to 0x69',
    ],
    ["qemu-system-x86_64: warning: host doesn't support requested feature\nqemu-system-x86_64: terminating on signal 9\n", "warning: host doesn't support requested feature"],
    ['', null],
  ];
  for (const [stderr, expected] of cases) {
    it(JSON.stringify(expected), () => expect(qemuComplaint(stderr)).toBe(expected));
  }
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Accelerator, GuestArch } from '../../../src-main/shared/models';
import {
  buildQemuArgv,
  parseQemuVersion,
  qemuOptValue,
  shellQuote,
  type HostFacts,
  type LaunchSpec,
} from '../../../src-main/core/qemu';

const fixtures = join(__dirname, '..', '..', 'fixtures', 'qemu');
function versionFrom(file: string) {
  const version = parseQemuVersion(readFileSync(join(fixtures, file), 'utf8'));
  if (!version) throw new Error(`no version in ${file}`);
  return version;
}
const debian = versionFrom('qemu-system-x86_64-7.2-debian.version.txt');
const homebrew = versionFrom('hand-written-homebrew-qemu-system-aarch64-10.1.version.txt');

function spec(overrides: Partial<LaunchSpec> = {}): LaunchSpec {
  return {
    name: 'web',
    arch: 'x86_64',
    memoryMb: 2048,
    cpus: 2,
    disk: '/home/u/.xray/vms/web/disk.qcow2',
    efiVars: '/home/u/.xray/vms/web/efivars.qcow2',
    firmwareCode: '/usr/share/OVMF/OVMF_CODE_4M.fd',
    qmpSocket: '/home/u/.xray/vms/web/qmp.sock',
    consolePipe: '/home/u/.xray/vms/web/console',
    consoleLog: '/home/u/.xray/vms/web/console.log',
    pidFile: '/home/u/.xray/vms/web/pid',
    sshPort: 2222,
    ports: [],
    proxySocket: '/home/u/.xray/vms/web/proxy.sock',
    dnsSocket: '/home/u/.xray/vms/web/dns.sock',
    netcat: '/usr/bin/nc',
    display: 'none',
    ...overrides,
  };
}

/** valuesOf returns the argument after every occurrence of `flag`. */
function valuesOf(argv: string[], flag: string): string[] {
  return argv.flatMap((arg, i) => (arg === flag ? [argv[i + 1] ?? '<missing>'] : []));
}

function valueOf(argv: string[], flag: string): string {
  const values = valuesOf(argv, flag);
  expect(values, `${flag} appears once`).toHaveLength(1);
  return values[0]!;
}

describe('buildQemuArgv: machine, CPU and accelerator', () => {
  const cases: Array<{ arch: GuestArch; accel: Accelerator; platform: NodeJS.Platform; machine: string; cpu: string }> = [
    { arch: 'aarch64', accel: 'tcg', platform: 'linux', machine: 'virt,gic-version=3', cpu: 'max' },
    { arch: 'aarch64', accel: 'hvf', platform: 'darwin', machine: 'virt,gic-version=3', cpu: 'host' },
    { arch: 'aarch64', accel: 'kvm', platform: 'linux', machine: 'virt,gic-version=host', cpu: 'host' },
    { arch: 'x86_64', accel: 'tcg', platform: 'linux', machine: 'q35', cpu: 'max' },
    { arch: 'x86_64', accel: 'kvm', platform: 'linux', machine: 'q35', cpu: 'host' },
    { arch: 'x86_64', accel: 'tcg', platform: 'darwin', machine: 'q35', cpu: 'max' },
  ];
  for (const c of cases) {
    it(`${c.arch} under ${c.accel} on ${c.platform}`, () => {
      const argv = buildQemuArgv(spec({ arch: c.arch, cpus: 4, memoryMb: 3072 }), {
        platform: c.platform,
        accel: c.accel,
        qemuVersion: c.platform === 'darwin' ? homebrew : debian,
      });
      expect(valueOf(argv, '-machine')).toBe(c.machine);
      expect(valueOf(argv, '-cpu')).toBe(c.cpu);
      expect(valueOf(argv, '-accel')).toBe(c.accel);
      expect(valueOf(argv, '-smp')).toBe('4');
      expect(valueOf(argv, '-m')).toBe('3072M');
      expect(argv).toContain('-nodefaults');
    });
  }

  it('turns highmem off for HVF on QEMU older than 7.0, whose virt memory map exceeds the Mac IPA range', () => {
    const argv = buildQemuArgv(spec({ arch: 'aarch64' }), {
      platform: 'darwin',
      accel: 'hvf',
      qemuVersion: { major: 6, minor: 2, micro: 0 },
    });
    expect(valueOf(argv, '-machine')).toBe('virt,gic-version=3,highmem=off');
  });
});

const linuxTcg: HostFacts = { platform: 'linux', accel: 'tcg', qemuVersion: debian };

describe('buildQemuArgv: devices', () => {
  it('attaches UEFI code read-only and the qcow2 vars store writable with a node name', () => {
    const drives = valuesOf(buildQemuArgv(spec(), linuxTcg), '-drive');
    expect(drives).toContain('if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd');
    expect(drives).toContain('if=pflash,format=qcow2,unit=1,node-name=efivars,file=/home/u/.xray/vms/web/efivars.qcow2');
  });

  it('boots the overlay from virtio-blk with discard', () => {
    const argv = buildQemuArgv(spec(), linuxTcg);
    expect(valuesOf(argv, '-drive')).toContain(
      'if=none,id=disk0,node-name=disk,format=qcow2,discard=unmap,file=/home/u/.xray/vms/web/disk.qcow2',
    );
    expect(valuesOf(argv, '-device')).toContain('virtio-blk-pci,drive=disk0,bootindex=0');
  });

  it('has exactly one NIC, restricted, forwarding SSH and user ports from loopback and egress to the sockets', () => {
    const argv = buildQemuArgv(spec({ ports: [{ host: 8080, guest: 80 }, { host: 5433, guest: 5432 }] }), linuxTcg);
    const netdev = valueOf(argv, '-netdev');
    expect(netdev).toBe(
      [
        'user',
        'id=net0',
        'restrict=on',
        'ipv6=off',
        'hostfwd=tcp:127.0.0.1:2222-:22',
        'hostfwd=tcp:127.0.0.1:8080-:80',
        'hostfwd=tcp:127.0.0.1:5433-:5432',
        "guestfwd=tcp:10.0.2.100:1080-cmd:'/usr/bin/nc' -U '/home/u/.xray/vms/web/proxy.sock'",
        "guestfwd=tcp:10.0.2.100:53-cmd:'/usr/bin/nc' -U '/home/u/.xray/vms/web/dns.sock'",
      ].join(','),
    );
    const nics = valuesOf(argv, '-device').filter((d) => d.includes('net'));
    expect(nics).toEqual(['virtio-net-pci,netdev=net0']);
    expect(argv).not.toContain('-nic');
    expect(argv).not.toContain('-net');
  });

  it('puts QMP, serial console, pid file and name where the supervisor looks', () => {
    const argv = buildQemuArgv(spec(), linuxTcg);
    expect(valuesOf(argv, '-chardev')).toEqual([
      'socket,id=qmp,server=on,wait=off,path=/home/u/.xray/vms/web/qmp.sock',
      'pipe,id=serial0,path=/home/u/.xray/vms/web/console,logfile=/home/u/.xray/vms/web/console.log,logappend=on',
    ]);
    expect(valueOf(argv, '-mon')).toBe('chardev=qmp,mode=control');
    expect(valueOf(argv, '-serial')).toBe('chardev:serial0');
    expect(valueOf(argv, '-pidfile')).toBe('/home/u/.xray/vms/web/pid');
    expect(valueOf(argv, '-name')).toBe('xray-web,process=xray-web');
    expect(valuesOf(argv, '-device')).toContain('virtio-rng-pci');
  });

  it('sets the process name only on Linux', () => {
    const argv = buildQemuArgv(spec({ arch: 'aarch64' }), { platform: 'darwin', accel: 'hvf', qemuVersion: homebrew });
    expect(valueOf(argv, '-name')).toBe('xray-web');
  });
});

describe('buildQemuArgv: display modes', () => {
  const cases: Array<{ display: LaunchSpec['display']; arch: GuestArch; gpu: string | null }> = [
    { display: 'none', arch: 'x86_64', gpu: null },
    { display: 'none', arch: 'aarch64', gpu: null },
    { display: 'gtk', arch: 'x86_64', gpu: 'virtio-vga' },
    { display: 'sdl', arch: 'x86_64', gpu: 'virtio-vga' },
    { display: 'cocoa', arch: 'aarch64', gpu: 'virtio-gpu-pci' },
    { display: 'gtk', arch: 'aarch64', gpu: 'virtio-gpu-pci' },
  ];
  for (const c of cases) {
    it(`${c.display} for ${c.arch}`, () => {
      const argv = buildQemuArgv(spec({ display: c.display, arch: c.arch }), linuxTcg);
      const devices = valuesOf(argv, '-device');
      expect(valueOf(argv, '-display')).toBe(c.display);
      if (c.gpu === null) {
        expect(devices.some((d) => /vga|gpu|usb/.test(d))).toBe(false);
      } else {
        expect(devices).toContain(c.gpu);
        expect(devices).toContain('usb-kbd,bus=usb.0');
        expect(devices).toContain('usb-tablet,bus=usb.0');
      }
    });
  }
});

describe('buildQemuArgv: awkward paths', () => {
  const dir = "/Users/a, b/it's here/vms/web";
  const argv = buildQemuArgv(
    spec({
      disk: `${dir}/disk.qcow2`,
      efiVars: `${dir}/efivars.qcow2`,
      firmwareCode: '/opt/fw,1/code.fd',
      qmpSocket: `${dir}/qmp.sock`,
      consolePipe: `${dir}/console`,
      consoleLog: `${dir}/console.log`,
      pidFile: `${dir}/pid`,
      proxySocket: `${dir}/proxy.sock`,
      dnsSocket: `${dir}/dns.sock`,
      netcat: '/opt/my tools/nc',
      cloudInitSeedDir: `${dir}/seed`,
    }),
    linuxTcg,
  );

  it('doubles commas inside option values', () => {
    const drives = valuesOf(argv, '-drive');
    expect(drives).toContain('if=pflash,format=raw,unit=0,readonly=on,file=/opt/fw,,1/code.fd');
    expect(drives).toContain("if=pflash,format=qcow2,unit=1,node-name=efivars,file=/Users/a,, b/it's here/vms/web/efivars.qcow2");
    expect(drives.some((d) => d.endsWith("file=/Users/a,, b/it's here/vms/web/disk.qcow2"))).toBe(true);
    expect(drives.some((d) => d.endsWith("file.dir=/Users/a,, b/it's here/vms/web/seed"))).toBe(true);
    expect(valuesOf(argv, '-chardev')).toContain("socket,id=qmp,server=on,wait=off,path=/Users/a,, b/it's here/vms/web/qmp.sock");
    expect(valuesOf(argv, '-chardev')).toContain(
      "pipe,id=serial0,path=/Users/a,, b/it's here/vms/web/console,logfile=/Users/a,, b/it's here/vms/web/console.log,logappend=on",
    );
  });

  it('leaves the pid file alone: -pidfile is a plain path, not an option list', () => {
    expect(valueOf(argv, '-pidfile')).toBe(`${dir}/pid`);
  });

  it('shell-quotes guestfwd commands, then escapes their commas', () => {
    const netdev = valueOf(argv, '-netdev');
    expect(netdev).toContain(
      "guestfwd=tcp:10.0.2.100:1080-cmd:'/opt/my tools/nc' -U '/Users/a,, b/it'\\''s here/vms/web/proxy.sock'",
    );
  });
});

describe('buildQemuArgv: optional parts', () => {
  it('attaches a cloud-init seed as a read-only FAT drive labelled cidata', () => {
    const argv = buildQemuArgv(spec({ cloudInitSeedDir: '/tmp/seed' }), linuxTcg);
    expect(valuesOf(argv, '-drive')).toContain(
      'if=none,id=seed,format=raw,read-only=on,file.driver=vvfat,file.label=cidata,file.dir=/tmp/seed',
    );
    expect(valuesOf(argv, '-device')).toContain('virtio-blk-pci,drive=seed');
  });

  it('has no seed drive without a seed dir', () => {
    expect(buildQemuArgv(spec(), linuxTcg).join(' ')).not.toContain('vvfat');
  });

  it('starts paused only when asked', () => {
    expect(buildQemuArgv(spec({ startPaused: true }), linuxTcg)).toContain('-S');
    expect(buildQemuArgv(spec(), linuxTcg)).not.toContain('-S');
  });
});

describe('buildQemuArgv: shared folders', () => {
  it('gives each share a mapped-xattr fsdev and a virtio-9p device with its tag, read-only ones readonly=on, none without shares', () => {
    const argv = buildQemuArgv(
      spec({ shares: [{ tag: 'xray-a', hostPath: '/Users/me/my,app', readOnly: false }, { tag: 'xray-b', hostPath: '/data', readOnly: true }] }),
      linuxTcg,
    );
    expect(valuesOf(argv, '-fsdev')).toEqual([
      'local,id=share0,path=/Users/me/my,,app,security_model=mapped-xattr,multidevs=remap',
      'local,id=share1,path=/data,security_model=mapped-xattr,multidevs=remap,readonly=on',
    ]);
    expect(valuesOf(argv, '-device').filter((d) => d.startsWith('virtio-9p-pci'))).toEqual([
      'virtio-9p-pci,id=share0-dev,fsdev=share0,mount_tag=xray-a',
      'virtio-9p-pci,id=share1-dev,fsdev=share1,mount_tag=xray-b',
    ]);
    expect(buildQemuArgv(spec(), linuxTcg)).not.toContain('-fsdev');
  });
});

describe('qemuOptValue and shellQuote', () => {
  const cases: Array<[string, string, string]> = [
    ['/plain/path', '/plain/path', "'/plain/path'"],
    ['/a,b,,c', '/a,,b,,,,c', "'/a,b,,c'"],
    ["/it's", "/it's", "'/it'\\''s'"],
    ['/sp ace', '/sp ace', "'/sp ace'"],
  ];
  for (const [input, opt, quoted] of cases) {
    it(JSON.stringify(input), () => {
      expect(qemuOptValue(input)).toBe(opt);
      expect(shellQuote(input)).toBe(quoted);
    });
  }
});

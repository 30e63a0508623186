// Runs in: plain Node (core).
import { constants } from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Accelerator, GuestArch } from '../../shared/models';
import { childProcess } from '../builtins';

/** KvmProbe answers null when KVM really runs a guest, else why it does not. */
export type KvmProbe = () => Promise<string | null>;

export interface AccelOptions {
  readonly platform: NodeJS.Platform;
  /** arch is the guest's. */
  readonly arch: GuestArch;
  readonly hostArch: GuestArch;
  readonly binary: string;
  /** accelHelp is what `binary -accel help` listed (see parseAccelHelp). */
  readonly accelHelp: readonly Accelerator[];
  readonly probeKvm: KvmProbe;
}

export interface AccelChoice {
  readonly accel: Accelerator;
  /** warning says why a VM will run slowly under TCG; null with hardware acceleration. */
  readonly warning: string | null;
}

const SLOW = 'running under TCG, which is much slower';

function tcg(reason: string): AccelChoice {
  return { accel: 'tcg', warning: `${reason}; ${SLOW}.` };
}

/**
 * chooseAccelerator decides once for a binary: hvf on macOS and kvm on Linux
 * when the guest runs natively and the accelerator is compiled in — kvm only
 * after a real guest ran, because nested hosts often have a /dev/kvm that opens
 * but cannot run guest code — else tcg with a warning saying why.
 */
async function chooseAccelerator(opts: AccelOptions): Promise<AccelChoice> {
  const foreign = opts.arch !== opts.hostArch;
  if (opts.platform === 'darwin') {
    if (foreign) return tcg(`HVF cannot run ${opts.arch} guests on an ${opts.hostArch} Mac, so the guest is emulated`);
    if (!opts.accelHelp.includes('hvf')) return tcg(`${basename(opts.binary)} was built without HVF support`);
    return { accel: 'hvf', warning: null };
  }
  if (opts.platform === 'linux') {
    if (foreign) return tcg(`KVM cannot run ${opts.arch} guests on an ${opts.hostArch} host, so the guest is emulated`);
    if (!opts.accelHelp.includes('kvm')) return tcg(`${basename(opts.binary)} was built without KVM support`);
    const failure = await opts.probeKvm();
    if (failure !== null) return tcg(failure);
    return { accel: 'kvm', warning: null };
  }
  return tcg(`Xray knows no hardware accelerator for ${opts.platform} hosts`);
}

/**
 * AcceleratorProber remembers the choice per QEMU binary for the life of the
 * process: probing KVM spawns a VM, and the answer does not change while we run.
 */
export class AcceleratorProber {
  private readonly choices = new Map<string, Promise<AccelChoice>>();

  probe(opts: AccelOptions): Promise<AccelChoice> {
    let choice = this.choices.get(opts.binary);
    if (!choice) {
      choice = chooseAccelerator(opts);
      this.choices.set(opts.binary, choice);
    }
    return choice;
  }
}

const sharedProber = new AcceleratorProber();

/** probeAccelerator picks the accelerator for a binary, cached process-wide. */
export function probeAccelerator(opts: AccelOptions): Promise<AccelChoice> {
  return sharedProber.probe(opts);
}

/**
 * X86_PROBE_EXIT is what QEMU exits with when the x86 probe guest writes 0x2a
 * to isa-debug-exit ((value << 1) | 1).
 */
const X86_PROBE_EXIT = 0x55;

/**
 * x86ProbeFirmware is a 64 KiB BIOS image whose reset vector (offset 0xfff0,
 * real mode) runs `fwait; fninit` — an FPU instruction every OS executes early,
 * and the first thing that fails under KVM on some nested hosts ("emulation
 * failure") — then `mov al, 0x2a; out 0xf4, al` to exit through isa-debug-exit.
 * The rest is `hlt`.
 */
function x86ProbeFirmware(): Buffer {
  const image = Buffer.alloc(64 * 1024, 0xf4);
  Buffer.from([0x9b, 0xdb, 0xe3, 0xb0, 0x2a, 0xe6, 0xf4, 0xf4]).copy(image, 0xfff0);
  return image;
}

/**
 * aarch64ProbeFirmware starts at address 0 of the virt machine's flash and calls
 * PSCI SYSTEM_OFF (0x84000008) over HVC, QEMU's PSCI conduit without EL3
 * firmware; QEMU then exits 0. `movz x0, #8; movk x0, #0x8400, lsl #16; hvc #0; b .`
 */
function aarch64ProbeFirmware(): Buffer {
  const image = Buffer.alloc(4096);
  [0xd2800100, 0xf2b08000, 0xd4000002, 0x14000000].forEach((insn, i) => image.writeUInt32LE(insn, i * 4));
  return image;
}

export interface KvmProbeOptions {
  readonly devKvm?: string;
  readonly timeoutMs?: number;
  /** accel lets tests check the probe guests under TCG, where they must exit cleanly too. */
  readonly accel?: Accelerator;
}

/** kvmProbeArgv is the command line of the probe VM: the CPU model and machine a real VM gets. */
export function kvmProbeArgv(arch: GuestArch, firmwareFile: string, accel: Accelerator = 'kvm'): string[] {
  const common = ['-nodefaults', '-no-user-config', '-display', 'none', '-monitor', 'none', '-serial', 'none', '-m', '64'];
  const cpu = accel === 'tcg' ? 'max' : 'host';
  if (arch === 'x86_64') {
    return [...common, '-machine', 'q35', '-accel', accel, '-cpu', cpu, '-bios', firmwareFile, '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'];
  }
  const gic = accel === 'kvm' ? 'host' : '3';
  return [...common, '-machine', `virt,gic-version=${gic}`, '-accel', accel, '-cpu', cpu, '-bios', firmwareFile];
}

/** KVM_FATAL says QEMU has hit a KVM failure it will only pause on, so waiting longer is pointless. */
const KVM_FATAL = /KVM internal error|emulation failure/;

/** qemuComplaint picks QEMU's most telling stderr line: the first error, else the first line. */
export function qemuComplaint(stderr: string): string | null {
  const lines = stderr
    .split('\n')
    .map((line) => line.replace(/^qemu-system-[\w-]+: (error: )?/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('terminating on signal'));
  return lines.find((line) => !line.startsWith('warning:')) ?? lines[0] ?? null;
}

async function devKvmProblem(devKvm: string): Promise<string | null> {
  try {
    await access(devKvm, constants.R_OK | constants.W_OK);
    return null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `${devKvm} does not exist, so KVM is not available on this host`;
    return `${devKvm} is not readable and writable by this user (add the user to the "kvm" group)`;
  }
}

/**
 * defaultKvmProbe returns a KvmProbe that checks /dev/kvm and then boots a tiny
 * guest under KVM with the same CPU model a VM gets (`-cpu host`): it succeeds
 * only if that guest runs its code and powers off within the timeout.
 */
export function defaultKvmProbe(binary: string, arch: GuestArch, opts: KvmProbeOptions = {}): KvmProbe {
  const devKvm = opts.devKvm ?? '/dev/kvm';
  const timeoutMs = opts.timeoutMs ?? 5000;
  const accel = opts.accel ?? 'kvm';
  return async () => {
    if (accel === 'kvm') {
      const problem = await devKvmProblem(devKvm);
      if (problem) return problem;
    }
    const dir = await mkdtemp(join(tmpdir(), 'xray-kvm-probe-'));
    try {
      const firmware = join(dir, 'probe.bin');
      await writeFile(firmware, arch === 'x86_64' ? x86ProbeFirmware() : aarch64ProbeFirmware());
      const run = await runProbeVm(binary, kvmProbeArgv(arch, firmware, accel), timeoutMs);
      const expected = arch === 'x86_64' ? X86_PROBE_EXIT : 0;
      if (run.code === expected) return null;
      const said = qemuComplaint(run.stderr) ?? (run.timedOut ? `the test VM did not finish within ${timeoutMs} ms` : `exit code ${run.code}`);
      return `KVM is present but does not work here (${said})`;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}

interface ProbeRun {
  readonly code: number | null;
  readonly stderr: string;
  readonly timedOut: boolean;
}

function runProbeVm(binary: string, args: string[], timeoutMs: number): Promise<ProbeRun> {
  return new Promise((resolve) => {
    const child = childProcess().spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (KVM_FATAL.test(stderr)) child.kill('SIGKILL');
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stderr: `${stderr}\n${err.message}`, timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, timedOut });
    });
  });
}

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '../../helpers/wait';

const run = promisify(execFile);

export type VarsFormat = 'qcow2' | 'raw';
export type GuestArch = 'x86_64' | 'aarch64';

/** TestVm is a real firmware-only QEMU with a QMP socket, a qcow2 disk and UEFI vars. */
export interface TestVm {
  readonly dir: string;
  readonly qmpSocket: string;
  readonly disk: string;
  readonly vars: string;
  readonly process: ChildProcess;
  readonly stderr: () => string;
  readonly exited: Promise<void>;
  kill(): Promise<void>;
}

const FIRMWARE: Record<GuestArch, { code: string; vars: string }> = {
  x86_64: { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  aarch64: { code: '/usr/share/AAVMF/AAVMF_CODE.fd', vars: '/usr/share/AAVMF/AAVMF_VARS.fd' },
};

const MACHINE: Record<GuestArch, string[]> = {
  x86_64: ['qemu-system-x86_64', '-machine', 'q35', '-accel', 'tcg'],
  aarch64: ['qemu-system-aarch64', '-machine', 'virt', '-cpu', 'max', '-accel', 'tcg'],
};

/**
 * startQemu boots UEFI firmware without an OS: enough for QMP, events and live
 * snapshots. The vars pflash is qcow2 unless the test asks for raw, which is
 * what a plain copy of the firmware's vars file would be.
 */
export async function startQemu(options: { arch?: GuestArch; varsFormat?: VarsFormat; memoryMb?: number } = {}): Promise<TestVm> {
  const arch = options.arch ?? 'x86_64';
  const varsFormat = options.varsFormat ?? 'qcow2';
  const dir = mkdtempSync(join(tmpdir(), 'xray-qmp-'));
  const qmpSocket = join(dir, 'qmp.sock');
  const disk = join(dir, 'disk.qcow2');
  const vars = join(dir, `vars.${varsFormat}`);
  const firmware = FIRMWARE[arch];
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
  if (varsFormat === 'qcow2') await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', firmware.vars, vars]);
  else copyFileSync(firmware.vars, vars);

  const [binary, ...machine] = MACHINE[arch];
  const child = spawn(binary!, [
    ...machine,
    '-nodefaults', '-display', 'none', '-m', String(options.memoryMb ?? 128),
    '-qmp', `unix:${qmpSocket},server=on,wait=off`,
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${firmware.code}`,
    '-drive', `if=pflash,format=${varsFormat},unit=1,file=${vars}`,
    '-drive', `if=none,id=disk0,format=qcow2,file=${disk}`,
    '-device', 'virtio-blk-pci,drive=disk0',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const vm: TestVm = {
    dir,
    qmpSocket,
    disk,
    vars,
    process: child,
    stderr: () => stderr,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await waitFor('the QMP socket', () => {
      if (child.exitCode !== null) throw new Error(`QEMU exited: ${stderr}`);
      return existsSync(qmpSocket);
    }, 15_000);
  } catch (err) {
    await vm.kill();
    throw new Error(`QEMU did not open its QMP socket: ${stderr}`, { cause: err });
  }
  return vm;
}

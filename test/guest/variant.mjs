// Runs in: plain Node (test tooling). Plain JS so capture-consoles.mjs can use
// it without a build. A variant of the test guest boots the same disk with
// another kernel command line: a VM's overlay gets an ESP whose standalone
// GRUB carries that command line, and the cached base is never touched.
//
// The ESP is the first partition of the test guest (build-guest.sh): 64 MiB
// from 1 MiB on. It is read out of the overlay with `qemu-img dd`, its
// BOOTX64.EFI replaced with mtools, and written back with `qemu-io`, so
// nothing is mounted and no nbd device is needed.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const ESP_OFFSET_MIB = 1;
const ESP_MIB = 64;

/** GUEST_CMDLINE is the test guest's own kernel command line (build-guest.sh). */
export const GUEST_CMDLINE = 'root=LABEL=root ro fsck.mode=skip console=tty0 console=ttyS0,115200n8';

/**
 * setKernelCommandLine makes the VM disk `disk` (an overlay of the test
 * guest) boot its kernel with `cmdline`, and without the initrd when
 * `initrd` is false.
 */
export async function setKernelCommandLine(disk, { cmdline, initrd = true }) {
  const work = await mkdtemp(join(tmpdir(), 'xray-guest-variant-'));
  try {
    const esp = join(work, 'esp.img');
    await run('qemu-img', ['dd', '-f', 'qcow2', '-O', 'raw', 'bs=1M', `skip=${ESP_OFFSET_MIB}`, `count=${ESP_MIB}`, `if=${disk}`, `of=${esp}`]);
    const cfg = join(work, 'grub.cfg');
    await writeFile(
      cfg,
      [
        'insmod part_gpt',
        'insmod fat',
        'insmod search_fs_file',
        'insmod linux',
        'set timeout=0',
        'search --no-floppy --file --set=root /xray-guest.esp',
        `linux /vmlinuz ${cmdline}`,
        ...(initrd ? ['initrd /initrd.img'] : []),
        'boot',
        '',
      ].join('\n'),
    );
    const efi = join(work, 'BOOTX64.EFI');
    await run('grub-mkstandalone', [
      '-O', 'x86_64-efi', '-o', efi,
      '--install-modules=part_gpt fat ext2 search search_fs_file linux normal configfile echo test',
      '--locales=', '--fonts=', '--themes=',
      `boot/grub/grub.cfg=${cfg}`,
    ]);
    await run('mcopy', ['-o', '-i', esp, efi, '::/EFI/BOOT/BOOTX64.EFI']);
    await run('qemu-io', ['-f', 'qcow2', '-c', `write -q -s ${esp} ${ESP_OFFSET_MIB}M ${ESP_MIB}M`, disk]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

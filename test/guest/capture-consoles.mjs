// Runs in: plain Node (test tooling). Captures the serial consoles of real
// boots that go wrong, as Xray records them, into test/fixtures/boot-consoles/
// for the boot diagnosis tests. Run once after `npm run build`, on a quiet
// machine (each boot is a few minutes under TCG):
//
//   node test/guest/capture-consoles.mjs [NAME…]
//
// Every boot goes through the built CLI in a temporary XRAY_HOME: the test
// guest (imported with no flag, so its VMs get the cloud-init seed) with its
// kernel command line changed by variant.mjs, and a firmware-only VM.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureTestGuest } from './build.mjs';
import { GUEST_CMDLINE, setKernelCommandLine } from './variant.mjs';

const run = promisify(execFile);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const XRAY = join(REPO, 'bin', 'xray');
const OUT = join(REPO, 'test', 'fixtures', 'boot-consoles');
const LIMIT_MS = 15 * 60_000;

/** BOOTS are the captured boots: how each VM is made, and the console line that ends its capture. */
const BOOTS = [
  { name: 'kernel-panic', cmdline: 'root=/dev/nonexistent ro console=ttyS0,115200n8', initrd: false, until: /end Kernel panic/ },
  { name: 'initramfs-shell', cmdline: 'root=/dev/nonexistent rootdelay=10 ro console=tty0 console=ttyS0,115200n8', until: /^\(initramfs\)/m },
  { name: 'emergency-mode', cmdline: `${GUEST_CMDLINE} systemd.unit=emergency.target`, until: /Press Enter to continue/ },
  { name: 'login-no-sshd', cmdline: `${GUEST_CMDLINE} systemd.mask=ssh.service`, until: /Cloud-init v\. \S+ finished/ },
  { name: 'ready', until: /Cloud-init v\. \S+ finished/ },
  { name: 'uefi-shell', firmwareOnly: true, until: /Shell> / },
];

async function xray(home, ...args) {
  return run(process.execPath, [XRAY, ...args], { env: { ...process.env, XRAY_HOME: home, NO_COLOR: '1' } });
}

async function waitForConsole(file, until) {
  const started = Date.now();
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (until.test(text)) return;
    if (Date.now() - started > LIMIT_MS) throw new Error(`${file} never showed ${until}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function capture(home, boot) {
  const vm = boot.name;
  if (boot.firmwareOnly) {
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', join(home, 'empty.qcow2'), '1G']);
    await xray(home, 'base', 'import', join(home, 'empty.qcow2'), '--name', 'empty', '--arch', 'x86_64');
    await xray(home, 'create', vm, '--base', 'empty', '--memory', '256', '--cpus', '1');
  } else {
    await xray(home, 'create', vm, '--base', 'guest', '--memory', '1024', '--cpus', '1');
    if (boot.cmdline) await setKernelCommandLine(join(home, 'vms', vm, 'disk.qcow2'), { cmdline: boot.cmdline, initrd: boot.initrd ?? true });
  }
  const console = join(home, 'vms', vm, 'console.log');
  await xray(home, 'start', vm);
  try {
    await waitForConsole(console, boot.until);
  } finally {
    await xray(home, 'stop', vm, '--force');
  }
  await copyFile(console, join(OUT, `${vm}.log`));
  process.stderr.write(`captured ${vm}\n`);
}

const wanted = process.argv.slice(2);
const home = await mkdtemp(join(tmpdir(), 'xray-capture-'));
try {
  const { image } = await ensureTestGuest();
  await mkdir(OUT, { recursive: true });
  await xray(home, 'base', 'import', image, '--link', '--name', 'guest', '--arch', 'x86_64');
  for (const boot of BOOTS.filter((b) => wanted.length === 0 || wanted.includes(b.name))) await capture(home, boot);
} finally {
  const lock = await readFile(join(home, 'supervisor.lock'), 'utf8').catch(() => '');
  const daemon = Number.parseInt(lock, 10);
  if (daemon > 0) process.kill(daemon, 'SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await rm(home, { recursive: true, force: true });
}

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNoCloudSeed } from '../../src-main/core/guest/cloud-init';
import { ensureTestGuest } from '../guest/guest';
import { freePort } from '../helpers/ports';

// The test guest: a real Debian UEFI image booted under QEMU, logged into over
// SSH with a key that only the NoCloud seed carries.

const run = promisify(execFile);
const skip = process.env.XRAY_SKIP_GUEST === '1';
if (skip) console.warn('guest-boot: skipped because XRAY_SKIP_GUEST=1; the guest image is neither built nor booted.');

const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';
const SSH_DEADLINE_MS = 180_000;
const BUILD_TIMEOUT_MS = 40 * 60_000;

describe.skipIf(skip)('test guest', () => {
  let image = '';
  let dir = '';
  let qemu: ChildProcess | undefined;
  let qemuExit: Promise<number | null> | undefined;

  beforeAll(async () => {
    ({ image } = await ensureTestGuest({ log: (line) => process.stderr.write(`[guest build] ${line}\n`) }));
    dir = await mkdtemp(join(tmpdir(), 'xray-guest-boot-'));
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (qemu && qemu.exitCode === null && qemu.signalCode === null) {
      qemu.kill('SIGKILL');
      await qemuExit;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('boots to SSH with the seed user, passwordless sudo and the firewall tools', async () => {
    const overlay = join(dir, 'disk.qcow2');
    const vars = join(dir, 'efivars.qcow2');
    const key = join(dir, 'id_ed25519');
    const seedDir = join(dir, 'seed');
    const consoleLog = join(dir, 'console.log');
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', image, overlay]);
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', OVMF_VARS, vars]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'xray-test', '-f', key]);
    const publicKey = (await readFile(`${key}.pub`, 'utf8')).trim();
    await writeNoCloudSeed(seedDir, { instanceId: 'guest-boot-1', hostname: 'xray-test', user: 'xray', authorizedKeys: [publicKey] });
    const port = await freePort();

    const started = Date.now();
    qemu = spawn(
      'qemu-system-x86_64',
      [
        '-nodefaults', '-no-user-config', '-display', 'none',
        '-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-smp', '2', '-m', '1024',
        '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF_CODE}`,
        '-drive', `if=pflash,format=qcow2,unit=1,file=${vars}`,
        '-drive', `if=virtio,format=qcow2,file=${overlay}`,
        '-drive', `if=virtio,format=raw,readonly=on,file.driver=vvfat,file.dir=${seedDir},file.label=cidata`,
        '-netdev', `user,id=net0,hostfwd=tcp:127.0.0.1:${port}-:22`,
        '-device', 'virtio-net-pci,netdev=net0',
        '-serial', `file:${consoleLog}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let qemuStderr = '';
    qemu.stderr?.on('data', (chunk: Buffer) => (qemuStderr += chunk.toString()));
    const child = qemu;
    qemuExit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));

    const ssh = (command: string, timeoutMs = 30_000) =>
      run(
        'ssh',
        [
          '-i', key, '-p', String(port),
          '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes',
          '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR',
          'xray@127.0.0.1', command,
        ],
        { timeout: timeoutMs },
      );

    const consoleTail = async () => (await readFile(consoleLog, 'utf8').catch(() => '')).split('\n').slice(-40).join('\n');
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`QEMU exited before SSH came up: ${qemuStderr}\n${await consoleTail()}`);
      }
      if (Date.now() - started > SSH_DEADLINE_MS) {
        throw new Error(`no SSH login within ${SSH_DEADLINE_MS / 1000} s; console:\n${await consoleTail()}`);
      }
      const ok = await ssh('true', 15_000).then(
        () => true,
        () => false,
      );
      if (ok) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    console.info(`guest-boot: boot to SSH took ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // A plain SSH session's PATH lacks /usr/sbin, where redsocks and iptables live.
    const tools = await ssh('PATH=/usr/sbin:/usr/bin:/sbin:/bin which redsocks iptables curl');
    expect(tools.stdout.trim().split('\n')).toHaveLength(3);
    await expect(ssh('sudo -n true')).resolves.toBeDefined();
    expect((await ssh('hostname')).stdout.trim()).toBe('xray-test');
    const redsocks = await ssh('systemctl is-enabled redsocks').catch((err: { stdout: string }) => err);
    expect(redsocks.stdout.trim()).toBe('disabled');

    await ssh('sudo -n systemctl poweroff').catch(() => undefined);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000));
    expect(await Promise.race([qemuExit, timeout])).toBe(0);
  }, SSH_DEADLINE_MS + 120_000);
});

// The first boot of a stock cloud image, through the built CLI with real QEMU
// (TCG) and the real test guest (Debian, sshd, cloud-init, no user or key
// baked in): imported with no flag it becomes `ready` with Xray's key, and
// its built-in hooks run. The same disk booted with sshd masked is diagnosed
// from what Xray sees: a login prompt, and nothing on the SSH port.
// boot_timeout is left at its TCG default; both VMs boot at once to keep the
// run short. (The test guest cannot stand for an image without cloud-init:
// with cloud-init off it has no SSH host keys, so its sshd does not start.)
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestGuest } from '../guest/guest';
import { GUEST_CMDLINE, setKernelCommandLine } from '../guest/variant.mjs';
import { xray } from '../helpers/cli';
import { makeTestHome, type TestHome } from '../helpers/home';
import { waitFor } from '../helpers/wait';
import { BOOT_TIMEOUT_DEFAULTS } from '../../src-main/core/supervisor/boot-check';
import { isProcessAlive } from '../../src-main/core/vms/runtime';

const skip = process.env.XRAY_SKIP_GUEST === '1';
if (skip) console.warn('e2e/first-boot: skipped because XRAY_SKIP_GUEST=1; no guest is booted.');

const WAIT_MS = (BOOT_TIMEOUT_DEFAULTS.tcg + 300) * 1000;
const VMS = ['stock', 'nosshd'] as const;

let home: TestHome;

async function create(vm: string, cmdline?: string): Promise<void> {
  const made = await xray(home.root, ['create', vm, '--base', 'guest', '--memory', '1024', '--cpus', '1']);
  expect(made.code, made.stderr).toBe(0);
  if (cmdline) await setKernelCommandLine(join(home.root, 'vms', vm, 'disk.qcow2'), { cmdline });
}

async function consoleTail(vm: string): Promise<string> {
  return (await readFile(join(home.root, 'vms', vm, 'console.log'), 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
}

describe.skipIf(skip)('the first boot of a stock cloud image', () => {
  beforeAll(async () => {
    const { image } = await ensureTestGuest({ log: (line) => process.stderr.write(`[guest build] ${line}\n`) });
    home = await makeTestHome('xray-e2e-first-boot-');
    const imported = await xray(home.root, ['base', 'import', image, '--link', '--name', 'guest', '--arch', 'x86_64']);
    expect(imported.code, imported.stderr).toBe(0);
    await create('stock');
    await create('nosshd', `${GUEST_CMDLINE} systemd.mask=ssh.service`);
    // One start brings the daemon up, so the two starts below do not race to spawn it.
    const first = await xray(home.root, ['start', 'stock']);
    expect(first.code, first.stderr).toBe(0);
  }, 45 * 60_000);

  afterAll(async () => {
    if (!home) return;
    for (const vm of VMS) await xray(home.root, ['stop', vm, '--force']);
    const pid = Number((await readFile(home.paths.lockFile, 'utf8').catch(() => '0')).trim());
    if (pid && isProcessAlive(pid)) process.kill(pid, 'SIGTERM');
    await waitFor('the daemon to exit', () => !pid || !isProcessAlive(pid));
    await home.cleanup();
  }, 120_000);

  it.concurrent('imported with no flag, boots to ready with Xray\'s key and runs its hooks', async () => {
    const start = await xray(home.root, ['start', 'stock', '--wait', '--json'], {}, WAIT_MS);
    expect(start.code, `${start.stderr}\n${await consoleTail('stock')}`).toBe(0);
    expect(JSON.parse(start.stdout)).toMatchObject({ state: 'ready', diagnosis: null });
    const whoami = await xray(home.root, ['ssh', 'stock', '--', 'id', '-un']);
    expect(whoami.stdout.trim(), whoami.stderr).toBe('ubuntu');
    await waitFor(
      'the built-in hooks to turn the firewall on',
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        return JSON.parse((await xray(home.root, ['info', 'stock', '--json'])).stdout).summary.firewallActive === true;
      },
      300_000,
    );
  }, WAIT_MS + 400_000);

  it.concurrent('with sshd masked, says the image runs no SSH server', async () => {
    const start = await xray(home.root, ['start', 'nosshd', '--wait'], {}, WAIT_MS);
    expect(start.code).not.toBe(0);
    expect(start.stderr, await consoleTail('nosshd')).toContain(
      'xray: VM "nosshd" booted to a login prompt but nothing answers on its SSH port: the image runs no SSH server; install and enable openssh-server in it.\n',
    );
    const info = JSON.parse((await xray(home.root, ['info', 'nosshd', '--json'])).stdout);
    expect(info.summary).toMatchObject({ state: 'booting', diagnosis: { problem: 'no-sshd' } });
    expect(info.summary.diagnosis.consoleTail.length).toBeGreaterThan(0);
  }, WAIT_MS + 60_000);
});

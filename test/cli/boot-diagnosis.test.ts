// `xray start --wait` on a VM that never lets Xray log in: a firmware-only VM
// (an empty disk under real OVMF and QEMU) stops in the UEFI shell. Once the
// boot_timeout set with `xray config set` has passed, --wait ends with the
// reason and a non-zero exit, and `xray info`, `info --json` and `list` show
// it on the VM, which keeps running.
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { xray } from '../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';
import { isProcessAlive } from '../../src-main/core/vms/runtime';
import { waitFor } from '../helpers/wait';

const SENTENCE = 'VM "box" found nothing to boot and stopped in the UEFI shell: its disk has no UEFI boot loader, so use a UEFI image (every official cloud image has one).';

let home: TestHome;

beforeEach(async () => {
  home = await makeTestHome('xray-cli-diagnosis-');
  await addFirmwareOnlyVm(home.paths, 'box');
  await xray(home.root, ['config', 'set', 'stop_timeout', '2']);
});

afterEach(async () => {
  await xray(home.root, ['stop', 'box', '--force']);
  const pid = Number((await readFile(home.paths.lockFile, 'utf8').catch(() => '0')).trim());
  if (pid && isProcessAlive(pid)) process.kill(pid, 'SIGTERM');
  await waitFor('the daemon to exit', () => !pid || !isProcessAlive(pid));
  await home.cleanup();
});

describe('a VM that does not let Xray log in within boot_timeout', () => {
  it('ends start --wait with the reason and a non-zero exit, and info, --json and list show it', async () => {
    const set = await xray(home.root, ['config', 'set', 'boot_timeout', '25']);
    expect(set.code, set.stderr).toBe(0);
    const started = Date.now();
    const start = await xray(home.root, ['start', 'box', '--wait'], {}, 180_000);
    expect(start.code).not.toBe(0);
    expect(start.stderr).toContain(`xray: ${SENTENCE}\n`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25_000);

    const info = await xray(home.root, ['info', 'box']);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toContain(`  problem     ${SENTENCE}\n`);
    const json = JSON.parse((await xray(home.root, ['info', 'box', '--json'])).stdout);
    expect(json.summary).toMatchObject({ state: 'booting', diagnosis: { problem: 'no-boot-device', message: SENTENCE } });
    expect(json.summary.diagnosis.consoleTail.at(-1)).toMatch(/^Shell>/);
    expect(isProcessAlive(json.summary.pid)).toBe(true);

    const list = await xray(home.root, ['list']);
    expect(list.stderr).toContain(SENTENCE);
    expect(JSON.parse((await xray(home.root, ['list', '--json'])).stdout)[0].diagnosis.problem).toBe('no-boot-device');
  });

  it('refuses a boot_timeout that is not a number of seconds in one sentence', async () => {
    const set = await xray(home.root, ['config', 'set', 'boot_timeout', 'soon']);
    expect(set.code).not.toBe(0);
    expect(set.stderr.trim().split('\n')).toHaveLength(1);
    expect(set.stderr).toContain('boot_timeout');
  });
});

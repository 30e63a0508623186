// Boot diagnosis on the serial consoles of real boots of the test guest and of
// a firmware-only VM, captured through Xray by test/guest/capture-consoles.mjs
// (see test/fixtures/boot-consoles/README.md): each says what a person must do.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateEd25519 } from '../../../src-main/core/ssh/keys';
import { waitForSsh } from '../../../src-main/core/ssh';
import { BOOT_TIMEOUT_DEFAULTS, bootTimeoutSeconds, readSshBanner } from '../../../src-main/core/supervisor/boot-check';
import { consoleLines, consoleSignal, diagnoseBoot, type BootFacts } from '../../../src-main/core/supervisor/boot-diagnosis';
import { REPO } from '../../helpers/cli';
import { makeSshd } from '../ssh/sshd';

const BANNER = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10';

function capture(name: string): string {
  return readFileSync(join(REPO, 'test', 'fixtures', 'boot-consoles', `${name}.log`), 'utf8');
}

function facts(console: string, more: Partial<BootFacts> = {}): BootFacts {
  return { vm: 'dev', user: 'ubuntu', cloudInit: true, budgetSeconds: 300, console, sshBanner: null, keyRefused: false, loginError: null, ...more };
}

describe('a real console says what went wrong', () => {
  it.each([
    ['uefi-shell', 'no-boot-device', 'VM "dev" found nothing to boot and stopped in the UEFI shell: its disk has no UEFI boot loader, so use a UEFI image (every official cloud image has one).'],
    ['kernel-panic', 'kernel-panic', 'The kernel of VM "dev" panicked ("VFS: Unable to mount root fs on unknown-block(0,0)"): the image or its kernel command line is broken; "xray console dev" shows the whole boot.'],
    [
      'initramfs-shell',
      'emergency-shell',
      'VM "dev" stopped in an emergency shell ("ALERT! /dev/nonexistent does not exist. Dropping to a shell!"): its root file system or /etc/fstab is broken; "xray console dev" shows the whole boot.',
    ],
    ['emergency-mode', 'emergency-shell', 'VM "dev" stopped in an emergency shell ("You are in emergency mode"): its root file system or /etc/fstab is broken; "xray console dev" shows the whole boot.'],
    ['login-no-sshd', 'no-sshd', 'VM "dev" booted to a login prompt but nothing answers on its SSH port: the image runs no SSH server; install and enable openssh-server in it.'],
  ])('%s → %s', (name, problem, message) => {
    const diagnosis = diagnoseBoot(facts(capture(name)), new Date('2026-01-02T03:04:05Z'));
    expect(diagnosis).toMatchObject({ problem, message, at: '2026-01-02T03:04:05.000Z' });
    expect(diagnosis.consoleTail.length).toBeGreaterThan(0);
    expect(diagnosis.consoleTail.join('\n')).not.toContain('\u001b');
  });

  it('tells an image without cloud-init from a VM that turned it off, when sshd refuses the key', () => {
    const ready = capture('ready');
    expect(diagnoseBoot(facts(ready, { sshBanner: BANNER, keyRefused: true })).message).toBe(
      'The image of VM "dev" does not accept Xray\'s key for user "ubuntu": it has no cloud-init; set ssh_key to a key it accepts ("xray config set ssh_key PATH") or use a cloud image.',
    );
    expect(diagnoseBoot(facts(ready, { sshBanner: BANNER, keyRefused: true, cloudInit: false }))).toMatchObject({
      problem: 'key-refused',
      message: expect.stringContaining('cloud-init is off for it (cloud_init = false)'),
    });
  });

  it('does not call a booted guest whose sshd answers broken, and says it keeps trying', () => {
    expect(diagnoseBoot(facts(capture('ready'), { sshBanner: BANNER }))).toMatchObject({
      problem: 'no-answer',
      message: `VM "dev" answers on SSH ("${BANNER}") but has not let Xray log in within 300 s; Xray keeps trying, and "xray console dev" shows the whole boot.`,
    });
  });

  it('quotes the last line of a boot still under way, and says so for a silent console', () => {
    const lines = capture('ready').split('\n');
    const early = lines.slice(0, lines.findIndex((l) => l.includes('Reached target') && l.includes('network.target'))).join('\n');
    const last = consoleLines(early).at(-1)!;
    const slow = diagnoseBoot(facts(early));
    expect(slow.problem).toBe('no-answer');
    expect(slow.message).toContain(`(last line: "${last.replace(/\s+/g, ' ').trim()}")`);
    expect(slow.message).toContain('it may still be booting');
    expect(diagnoseBoot(facts('')).message).toContain('has printed nothing on its serial console');
  });

  it('passes on a login that failed for another reason in its own words', () => {
    const loginError = 'The SSH host key of VM "dev" changed since it was first seen (now ED25519 SHA256:x); run "xray ssh-forget dev".';
    expect(diagnoseBoot(facts(capture('ready'), { sshBanner: BANNER, loginError }))).toMatchObject({ problem: 'login-failed', message: loginError });
  });
});

describe('consoleLines and consoleSignal', () => {
  it('draws the firmware\'s screen as lines, so its shell prompt starts one', () => {
    const lines = consoleLines(capture('uefi-shell'));
    expect(lines).toContain('UEFI Interactive Shell v2.2');
    expect(lines.at(-1)).toMatch(/^Shell> ?$/);
  });

  it('takes the last signal: a guest shut down after its login prompt still showed one', () => {
    expect(consoleSignal(consoleLines(capture('ready')))).toEqual({ kind: 'login' });
    expect(consoleSignal(consoleLines(capture('kernel-panic')))).toEqual({ kind: 'panic', reason: 'VFS: Unable to mount root fs on unknown-block(0,0)' });
  });
});

describe('bootTimeoutSeconds', () => {
  it('gives HVF and KVM a short budget and TCG a generous one, unless config.toml or XRAY_BOOT_TIMEOUT says otherwise', () => {
    const warnings: string[] = [];
    const warn = (m: string): void => void warnings.push(m);
    expect(bootTimeoutSeconds(null, 'hvf', undefined, warn)).toBe(BOOT_TIMEOUT_DEFAULTS.accelerated);
    expect(bootTimeoutSeconds(null, 'kvm', undefined, warn)).toBe(BOOT_TIMEOUT_DEFAULTS.accelerated);
    expect(bootTimeoutSeconds(null, 'tcg', undefined, warn)).toBe(BOOT_TIMEOUT_DEFAULTS.tcg);
    expect(BOOT_TIMEOUT_DEFAULTS.tcg).toBeGreaterThan(BOOT_TIMEOUT_DEFAULTS.accelerated);
    expect(bootTimeoutSeconds(45, 'tcg', undefined, warn)).toBe(45);
    expect(bootTimeoutSeconds(45, 'tcg', ' 20 ', warn)).toBe(20);
    expect(warnings).toEqual([]);
    expect(bootTimeoutSeconds(45, 'kvm', 'soon', warn)).toBe(45);
    expect(warnings).toEqual(['XRAY_BOOT_TIMEOUT="soon" is not a whole number of seconds from 1 to 86400, so it is ignored.']);
  });
});

describe('an sshd that refuses Xray\'s key', () => {
  it('is seen as a refusal while the wait goes on, and the diagnosis says the image has no cloud-init', async () => {
    const sshd = await makeSshd();
    try {
      await sshd.start();
      let refusals = 0;
      const waited = await waitForSsh({
        host: '127.0.0.1',
        port: sshd.port,
        username: sshd.user,
        privateKey: generateEd25519().private,
        knownHosts: join(sshd.dir, 'known_hosts'),
        vm: 'dev',
        timeoutMs: 2_000,
        onRefused: () => (refusals += 1),
      }).catch((err: unknown) => err);
      expect(waited).toBeInstanceOf(Error);
      expect(refusals).toBeGreaterThan(0);
      const sshBanner = await readSshBanner(sshd.port);
      expect(sshBanner).toMatch(/^SSH-2\.0-OpenSSH/);
      const diagnosis = diagnoseBoot(facts(capture('ready'), { sshBanner, keyRefused: refusals > 0, user: sshd.user }));
      expect(diagnosis).toMatchObject({
        problem: 'key-refused',
        message: `The image of VM "dev" does not accept Xray's key for user "${sshd.user}": it has no cloud-init; set ssh_key to a key it accepts ("xray config set ssh_key PATH") or use a cloud image.`,
      });
    } finally {
      await sshd.cleanup();
    }
  });
});

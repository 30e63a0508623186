// Runs in: plain Node (core), pure. Why a booting guest has not let Xray log
// in, from what Xray can see of it; tested on consoles of real boots
// (test/fixtures/boot-consoles/).
import type { BootDiagnosis } from '../../shared/models';

/** BootFacts is what Xray saw of a guest that did not let it log in within its boot_timeout. */
export interface BootFacts {
  readonly vm: string;
  readonly user: string;
  /** cloudInit is whether the VM got a cloud-init seed (vm.toml's cloud_init). */
  readonly cloudInit: boolean;
  readonly budgetSeconds: number;
  /** console is what the serial console received during this boot, as written. */
  readonly console: string;
  /** sshBanner is the first line the SSH port sent ("SSH-2.0-…"), or null when it sent none. */
  readonly sshBanner: string | null;
  /** keyRefused is true when the guest's sshd refused Xray's key lately. */
  readonly keyRefused: boolean;
  /** loginError is the sentence of a login that failed for another reason than time (a changed host key). */
  readonly loginError: string | null;
}

/** ConsoleSignal is the last thing on a console that says what state a guest is in. */
export type ConsoleSignal =
  | { readonly kind: 'uefi-shell' }
  | { readonly kind: 'panic'; readonly reason: string }
  | { readonly kind: 'emergency'; readonly cause: string }
  | { readonly kind: 'login' };

const TAIL_LINES = 12;
const LINE_CHARS = 200;
const QUOTE_CHARS = 120;

const SIGNALS: readonly { readonly kind: ConsoleSignal['kind']; readonly pattern: RegExp }[] = [
  // EDK II (OVMF, AAVMF): the boot manager found no loader and started its shell, or says so.
  { kind: 'uefi-shell', pattern: /^Shell>|UEFI Interactive Shell|No bootable option or device was found/ },
  { kind: 'panic', pattern: /Kernel panic - not syncing/ },
  // systemd's emergency and rescue shells; initramfs-tools' and dracut's shells.
  {
    kind: 'emergency',
    pattern: /You are in (?:emergency|rescue) mode|Entering emergency mode|Dropping to a shell!|^\(initramfs\)|^dracut:\/#|Give root password for maintenance|root account is locked/,
  },
  { kind: 'login', pattern: /^\S+ login:/ },
];

/** CAUSES are lines that say why a guest fell into an emergency shell. */
const CAUSES = /ALERT!|Gave up waiting|No init found|\bFAILED\b|Failed to mount|Timed out waiting|Dependency failed/;

/**
 * consoleLines turns what a serial console received into plain lines:
 * terminal escape sequences removed (a cursor move starts a new line, as the
 * firmware draws its screen with them), carriage returns as line ends, no
 * empty lines.
 */
export function consoleLines(raw: string): string[] {
  const text = raw
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-9;?=]*[HfJ]/g, '\n')
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-9;?=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78cDEHMNOZ]/g, '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '');
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '');
}

/** consoleSignal finds the last line that says what state the guest is in, or null when none does. */
export function consoleSignal(lines: readonly string[]): ConsoleSignal | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    const found = SIGNALS.find((s) => s.pattern.test(line));
    if (!found) continue;
    switch (found.kind) {
      case 'uefi-shell':
      case 'login':
        return { kind: found.kind };
      case 'panic':
        return { kind: 'panic', reason: panicReason(line) };
      case 'emergency':
        return { kind: 'emergency', cause: emergencyCause(lines.slice(0, i + 1)) };
    }
  }
  return null;
}

function panicReason(line: string): string {
  const reason = /Kernel panic - not syncing: (.*?)(?:\s*\]---)?\s*$/.exec(line)?.[1];
  return quote(reason && reason !== '' ? reason : 'no reason given');
}

/** SHELL_NAMES are the words with which an emergency shell names itself (sulogin's lines come after them). */
const SHELL_NAMES = /You are in (?:emergency|rescue) mode|Entering emergency mode|Dropping to a shell!|^\(initramfs\)|^dracut:\/#/;

/** emergencyCause is the last line before the shell that says what failed, or the shell's own words. */
function emergencyCause(lines: readonly string[]): string {
  const cause = lines.findLast((line) => CAUSES.test(line));
  if (cause) return quote(cause.replace(/^\[\s*[\d.]+\]\s*/, ''));
  const named = lines.findLast((line) => SHELL_NAMES.test(line)) ?? lines.at(-1)!;
  return quote(SHELL_NAMES.exec(named)?.[0] ?? named);
}

function quote(text: string): string {
  const plain = text.replace(/\s+/g, ' ').trim();
  return plain.length > QUOTE_CHARS ? `${plain.slice(0, QUOTE_CHARS - 1)}…` : plain;
}

/** diagnoseBoot says why the guest has not let Xray log in, in one sentence a person can act on. */
export function diagnoseBoot(facts: BootFacts, now: Date = new Date()): BootDiagnosis {
  const lines = consoleLines(facts.console);
  const consoleTail = lines.slice(-TAIL_LINES).map((line) => (line.length > LINE_CHARS ? `${line.slice(0, LINE_CHARS - 1)}…` : line));
  const [problem, message] = explain(facts, lines);
  return { problem, message, at: now.toISOString(), consoleTail };
}

function explain(facts: BootFacts, lines: readonly string[]): [BootDiagnosis['problem'], string] {
  const { vm, user } = facts;
  const console = `"xray console ${vm}" shows the whole boot`;
  const sshKey = 'set ssh_key to a key it accepts ("xray config set ssh_key PATH")';
  if (facts.keyRefused) {
    return facts.cloudInit
      ? ['key-refused', `The image of VM "${vm}" does not accept Xray's key for user "${user}": it has no cloud-init; ${sshKey} or use a cloud image.`]
      : [
          'key-refused',
          `VM "${vm}" does not accept Xray's key for user "${user}": cloud-init is off for it (cloud_init = false), so nothing gave the guest the key; ${sshKey} or delete that line from its vm.toml.`,
        ];
  }
  if (facts.loginError !== null) return ['login-failed', facts.loginError];
  const signal = consoleSignal(lines);
  switch (signal?.kind) {
    case 'uefi-shell':
      return ['no-boot-device', `VM "${vm}" found nothing to boot and stopped in the UEFI shell: its disk has no UEFI boot loader, so use a UEFI image (every official cloud image has one).`];
    case 'panic':
      return ['kernel-panic', `The kernel of VM "${vm}" panicked ("${signal.reason}"): the image or its kernel command line is broken; ${console}.`];
    case 'emergency':
      return ['emergency-shell', `VM "${vm}" stopped in an emergency shell ("${signal.cause}"): its root file system or /etc/fstab is broken; ${console}.`];
    case 'login':
      if (facts.sshBanner === null) {
        return ['no-sshd', `VM "${vm}" booted to a login prompt but nothing answers on its SSH port: the image runs no SSH server; install and enable openssh-server in it.`];
      }
  }
  const waited = `within ${facts.budgetSeconds} s`;
  if (facts.sshBanner !== null) {
    return ['no-answer', `VM "${vm}" answers on SSH ("${quote(facts.sshBanner)}") but has not let Xray log in ${waited}; Xray keeps trying, and ${console}.`];
  }
  const last = lines.at(-1);
  if (last === undefined) {
    return [
      'no-answer',
      `VM "${vm}" has not answered on SSH ${waited} and has printed nothing on its serial console: the image may not boot, or not log to the serial port; Xray keeps trying.`,
    ];
  }
  return [
    'no-answer',
    `VM "${vm}" has not answered on SSH ${waited} and its console shows no known failure (last line: "${quote(last)}"): it may still be booting, slowly under TCG; Xray keeps trying, and boot_timeout sets how long it waits before saying so.`,
  ];
}

// Runs in: plain Node (core). What the supervisor looks at when a guest does
// not let Xray log in: how long to wait (boot_timeout), this boot's console,
// and what the forwarded SSH port says.
import { open, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import type { XrayEvent } from '../../shared/contract';
import type { Accelerator, BootDiagnosis, GlobalSettings } from '../../shared/models';
import type { HomePaths } from '../paths';
import { SSH_HOST } from '../ssh';
import type { VmConfig } from '../store/vm-config';
import { diagnoseBoot } from './boot-diagnosis';

/**
 * BOOT_TIMEOUT_DEFAULTS are the seconds a guest gets to let Xray log in when
 * config.toml sets no boot_timeout: a stock cloud image boots in well under a
 * minute with HVF or KVM, and can take five under TCG on a busy host.
 */
export const BOOT_TIMEOUT_DEFAULTS = { accelerated: 90, tcg: 600 } as const;

const MAX_BOOT_TIMEOUT_SECONDS = 86_400;
/** CONSOLE_BYTES bounds how much of this boot's console a diagnosis reads (its end). */
const CONSOLE_BYTES = 256 * 1024;
/** ADOPTED_CONSOLE_BYTES is how much an adopted VM's diagnosis reads: when its boot began is not known. */
const ADOPTED_CONSOLE_BYTES = 64 * 1024;
const BANNER_WAIT_MS = 3_000;

/** SeenWhileWaiting is what the wait for SSH saw of the guest. */
export interface SeenWhileWaiting {
  readonly keyRefused: boolean;
  readonly loginError: string | null;
  /** consoleFrom is the console's size when QEMU started (null for an adopted VM). */
  readonly consoleFrom: number | null;
  readonly budgetSeconds: number;
}

export interface BootChecks {
  /** bootTimeoutMs is how long a guest under `accel` may take to let Xray log in before it is diagnosed. */
  bootTimeoutMs(accel: Accelerator | null): Promise<number>;
  /** diagnose says why a guest has not let Xray log in. */
  diagnose(vm: string, seen: SeenWhileWaiting): Promise<BootDiagnosis>;
}

export interface BootCheckDeps {
  readonly paths: HomePaths;
  readonly vms: { read(vm: string): Promise<VmConfig> };
  readonly settings: { read(): Promise<GlobalSettings> };
  /** emit reports a bad XRAY_BOOT_TIMEOUT (it is then ignored). */
  readonly emit: (event: XrayEvent) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** bootChecks gives the supervisor's wait for SSH its budget and its diagnosis. */
export function bootChecks(deps: BootCheckDeps): BootChecks {
  const env = deps.env ?? process.env;
  const warn = (message: string): void => deps.emit({ type: 'log', level: 'warn', source: 'supervisor', message });
  return {
    async bootTimeoutMs(accel) {
      return bootTimeoutSeconds((await deps.settings.read()).bootTimeoutSeconds, accel, env.XRAY_BOOT_TIMEOUT, warn) * 1000;
    },
    async diagnose(vm, seen) {
      const config = await deps.vms.read(vm);
      const paths = deps.paths.vm(vm);
      const [console, sshBanner] = await Promise.all([readBootConsole(paths.consoleLog, seen.consoleFrom), readSshBanner(config.sshPort)]);
      return diagnoseBoot({ vm, user: config.sshUser, cloudInit: config.cloudInit, sshBanner, console, ...seen });
    },
  };
}

/**
 * bootTimeoutSeconds is the budget for one boot: XRAY_BOOT_TIMEOUT when it is
 * a valid number of seconds, else config.toml's boot_timeout, else the
 * default for the accelerator.
 */
export function bootTimeoutSeconds(configured: number | null, accel: Accelerator | null, fromEnv: string | undefined, warn: (message: string) => void): number {
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const seconds = /^\d+$/.test(fromEnv.trim()) ? Number(fromEnv.trim()) : NaN;
    if (seconds >= 1 && seconds <= MAX_BOOT_TIMEOUT_SECONDS) return seconds;
    warn(`XRAY_BOOT_TIMEOUT="${fromEnv}" is not a whole number of seconds from 1 to ${MAX_BOOT_TIMEOUT_SECONDS}, so it is ignored.`);
  }
  if (configured !== null) return configured;
  return accel === 'hvf' || accel === 'kvm' ? BOOT_TIMEOUT_DEFAULTS.accelerated : BOOT_TIMEOUT_DEFAULTS.tcg;
}

/** consoleSize is how much a VM's console log holds now: where the next boot's output begins. */
export async function consoleSize(path: string): Promise<number> {
  return stat(path).then((s) => s.size, () => 0);
}

/** readBootConsole reads what the console log received since `from` (at most its last 256 KiB). */
export async function readBootConsole(path: string, from: number | null): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(from ?? size - ADOPTED_CONSOLE_BYTES, size - CONSOLE_BYTES, 0);
    if (start >= size) return '';
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * readSshBanner connects to the VM's forwarded SSH port and returns the first
 * line its sshd sends, or null when none comes. QEMU accepts the connection
 * itself, so a guest with nothing on port 22 shows as a connection closed
 * without a word, or one that stays silent.
 */
export function readSshBanner(port: number, timeoutMs = BANNER_WAIT_MS): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: SSH_HOST, port });
    let received = '';
    const done = (banner: string | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(banner);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\n');
      if (end >= 0 || received.length > 255) {
        const line = (end >= 0 ? received.slice(0, end) : received).trim();
        done(line.startsWith('SSH-') ? line : null);
      }
    });
    socket.on('error', () => done(null));
    socket.on('close', () => done(null));
  });
}

// Runs in: plain Node (core).
import { delimiter, join } from 'node:path';
import type { GuestArch } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { execCollect, isExecutableFile, type ExecFn, type ExistsFn } from './exec';

/**
 * HOMEBREW_BIN_DIRS are searched after PATH because an app started from Finder
 * or launchd gets a PATH without Homebrew (Apple Silicon, then Intel prefix).
 */
export const HOMEBREW_BIN_DIRS = ['/opt/homebrew/bin', '/usr/local/bin'] as const;

/** QEMU_DIR_ENV names a directory searched first, for a QEMU built from source or bundled. */
export const QEMU_DIR_ENV = 'XRAY_QEMU_DIR';

export interface SearchOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly exists?: ExistsFn;
}

export interface QemuBinaries {
  /** systemFor returns qemu-system-* for a guest arch, or throws naming the package to install. */
  systemFor(arch: GuestArch): string;
  readonly qemuImg: string;
}

const SYSTEM_BINARY: Record<GuestArch, string> = {
  aarch64: 'qemu-system-aarch64',
  x86_64: 'qemu-system-x86_64',
};

/** DEBIAN_PACKAGE says which Debian package ships each binary, for the error a user reads. */
const DEBIAN_PACKAGE: Record<string, string> = {
  'qemu-system-aarch64': 'qemu-system-arm',
  'qemu-system-x86_64': 'qemu-system-x86',
  'qemu-img': 'qemu-utils',
};

/** qemuSearchDirs lists where QEMU binaries are looked for, in order, without duplicates. */
export function qemuSearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  const override = env[QEMU_DIR_ENV];
  if (override && override.trim() !== '') dirs.push(override);
  dirs.push(...pathDirs(env), ...HOMEBREW_BIN_DIRS);
  return [...new Set(dirs)];
}

function pathDirs(env: NodeJS.ProcessEnv): string[] {
  return (env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
}

/** findExecutable returns the first `name` in `dirs` that exists, or null. */
export function findExecutable(name: string, dirs: readonly string[], exists: ExistsFn = isExecutableFile): string | null {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (exists(candidate)) return candidate;
  }
  return null;
}

function missingQemu(name: string): XrayError {
  const pkg = DEBIAN_PACKAGE[name] ?? 'qemu-system';
  return new XrayError(
    'missing-dependency',
    `${name} was not found; install QEMU (macOS: "brew install qemu"; Debian: "apt install ${pkg}") or set ${QEMU_DIR_ENV}.`,
  );
}

/**
 * findQemuBinaries locates qemu-img at once (every VM operation needs it) and
 * each qemu-system-* only when asked, so a host with one guest arch installed
 * is not blocked by the other.
 */
export function findQemuBinaries(opts: SearchOptions = {}): QemuBinaries {
  const dirs = qemuSearchDirs(opts.env ?? process.env);
  const exists = opts.exists ?? isExecutableFile;
  const locate = (name: string): string => {
    const found = findExecutable(name, dirs, exists);
    if (!found) throw missingQemu(name);
    return found;
  };
  const qemuImg = locate('qemu-img');
  return {
    qemuImg,
    systemFor: (arch) => locate(SYSTEM_BINARY[arch]),
  };
}

export interface NetcatOptions extends SearchOptions {
  readonly exec?: ExecFn;
}

/**
 * NETCAT_NAMES are tried in each directory: Debian installs OpenBSD netcat as
 * nc.openbsd behind the `nc` alternative, which may point at another netcat.
 */
const NETCAT_NAMES = ['nc', 'nc.openbsd', 'netcat'] as const;

/** NETCAT_EXTRA_DIRS cover a GUI app's short PATH; macOS ships BSD nc in /usr/bin. */
const NETCAT_EXTRA_DIRS = ['/usr/bin', '/bin', ...HOMEBREW_BIN_DIRS] as const;

/** supportsUnixSockets tells from `nc -h` output whether this netcat has -U (OpenBSD/BSD do). */
export function supportsUnixSockets(helpText: string): boolean {
  return /(^|\s)-U\s/m.test(helpText);
}

/**
 * findNetcat returns a netcat that can connect to a Unix socket (`nc -U`),
 * which guestfwd runs to carry guest traffic to the per-VM proxy socket.
 * GNU and "traditional" netcat lack -U, so each candidate is asked for its help.
 */
export async function findNetcat(opts: NetcatOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const exists = opts.exists ?? isExecutableFile;
  const exec = opts.exec ?? execCollect;
  const dirs = [...new Set([...pathDirs(env), ...NETCAT_EXTRA_DIRS])];
  for (const dir of dirs) {
    for (const name of NETCAT_NAMES) {
      const candidate = join(dir, name);
      if (!exists(candidate)) continue;
      const help = await exec(candidate, ['-h']).catch(() => null);
      if (help && supportsUnixSockets(`${help.stdout}\n${help.stderr}`)) return candidate;
    }
  }
  throw new XrayError(
    'missing-dependency',
    'No netcat with Unix socket support (nc -U) was found; install OpenBSD netcat ("apt install netcat-openbsd" on Debian; macOS has it built in).',
  );
}

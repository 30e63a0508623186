// Runs in: plain Node (core).
import { lstat, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecretBackendKind } from '../../shared/enums';
import { XrayError } from '../../shared/errors';
import { writeFileAtomic } from '../store/toml-file';
import { type CommandRunner, firstLine, redact } from './command';
import { nodeCrypto } from '../builtins';

/**
 * SecretBackend keeps secret values somewhere on the host. Names are
 * validated before they get here; values never appear in a helper's
 * arguments (other processes can read those), only on its standard input.
 */
export interface SecretBackend {
  readonly kind: SecretBackendKind;
  /** get returns the value, or null when the backend holds none under `name`. */
  get(name: string): Promise<string | null>;
  set(name: string, value: string): Promise<void>;
  /** remove deletes the value; removing one that is not there is not an error. */
  remove(name: string): Promise<void>;
}

/** HELPER_TIMEOUT_MS bounds a helper call; a keyring that asks the user to unlock it gets this long. */
export const HELPER_TIMEOUT_MS = 60_000;

export interface HelperOptions {
  readonly run: CommandRunner;
  readonly env: NodeJS.ProcessEnv;
  /** home is XRAY_HOME: secrets of different homes are kept apart. */
  readonly home: string;
  readonly timeoutMs?: number;
}

/** homeId tells homes apart in a store shared by all of them (the Keychain), short enough for a service name. */
function homeId(home: string): string {
  return nodeCrypto().createHash('sha256').update(home).digest('hex').slice(0, 12);
}

function helperFailed(helper: string, action: string, stderr: string, secrets: readonly string[]): XrayError {
  const why = firstLine(redact(stderr, secrets)) || 'it gave no reason';
  return new XrayError('internal', `${helper} could not ${action} (${why}); check that the keyring is unlocked and try again.`);
}

function notInstalled(helper: string, err: unknown): XrayError {
  return new XrayError('missing-dependency', `${helper} cannot be run (${(err as NodeJS.ErrnoException).code ?? String(err)}); install it or set XRAY_SECRET_BACKEND=file.`, { cause: err });
}

/**
 * KEYCHAIN_LINE_MAX is the longest line `security -i` reads (MAX_LINE_LEN in
 * Apple's security tool); the value goes on that line in hex, so it bounds
 * how long a secret the Keychain can take this way.
 */
const KEYCHAIN_LINE_MAX = 4096;

/**
 * KeychainBackend keeps secrets in the macOS login Keychain through
 * `security(1)`: generic passwords with service `xray:HOME-ID`, account
 * NAME. Adding runs `security -i` and writes the command on its standard
 * input with the value as hex (`-X`), so the value is on no command line and
 * needs no quoting; reading prints the value (`-w`) into our pipe.
 */
export class KeychainBackend implements SecretBackend {
  readonly kind = 'keychain' as const;
  private readonly service: string;

  constructor(private readonly options: HelperOptions) {
    this.service = `xray:${homeId(options.home)}`;
  }

  async get(name: string): Promise<string | null> {
    const result = await this.security(['find-generic-password', '-s', this.service, '-a', name, '-w']);
    // 44 is errSecItemNotFound's exit status.
    if (result.code === 44) return null;
    if (result.code !== 0) throw helperFailed('The Keychain (security)', `read secret "${name}"`, result.stderr, []);
    return result.stdout.replace(/\n$/, '');
  }

  async set(name: string, value: string): Promise<void> {
    const hex = Buffer.from(value, 'utf8').toString('hex');
    const line = `add-generic-password -U -s ${this.service} -a ${name} -l xray-${name} -X ${hex}\n`;
    // The line, its newline and the terminating NUL must fit the tool's buffer.
    const maxBytes = Math.floor((KEYCHAIN_LINE_MAX - 1 - (line.length - hex.length)) / 2);
    if (hex.length / 2 > maxBytes) {
      throw new XrayError('invalid-argument', `Secret "${name}" is too long for the Keychain (at most ${maxBytes} bytes); shorten it or set XRAY_SECRET_BACKEND=file.`);
    }
    const result = await this.security(['-i'], line);
    // In interactive mode security reports a failed command on stderr and still exits 0.
    if (result.code !== 0 || result.stderr.trim() !== '') throw helperFailed('The Keychain (security)', `store secret "${name}"`, result.stderr, [value, hex]);
  }

  async remove(name: string): Promise<void> {
    const result = await this.security(['delete-generic-password', '-s', this.service, '-a', name]);
    if (result.code !== 0 && result.code !== 44) throw helperFailed('The Keychain (security)', `remove secret "${name}"`, result.stderr, []);
  }

  private async security(args: readonly string[], stdin?: string) {
    try {
      return await this.options.run('security', args, { env: this.options.env, timeoutMs: this.options.timeoutMs ?? HELPER_TIMEOUT_MS, ...(stdin !== undefined ? { stdin } : {}) });
    } catch (err) {
      throw notInstalled('security', err);
    }
  }
}

/**
 * SecretServiceBackend keeps secrets in the freedesktop Secret Service
 * (GNOME Keyring, KWallet, KeePassXC) through `secret-tool`, as items with
 * the attributes `xray-home` (XRAY_HOME) and `xray-secret` (NAME). `store`
 * reads the value from its standard input.
 */
export class SecretServiceBackend implements SecretBackend {
  readonly kind = 'secret-service' as const;

  constructor(private readonly options: HelperOptions) {}

  async get(name: string): Promise<string | null> {
    const result = await this.secretTool(['lookup', ...this.attributes(name)]);
    if (result.code === 1 && result.stderr.trim() === '') return null;
    if (result.code !== 0) throw helperFailed('The Secret Service (secret-tool)', `read secret "${name}"`, result.stderr, []);
    return result.stdout.replace(/\n$/, '');
  }

  async set(name: string, value: string): Promise<void> {
    const result = await this.secretTool(['store', `--label=Xray secret ${name}`, ...this.attributes(name)], value);
    if (result.code !== 0) throw helperFailed('The Secret Service (secret-tool)', `store secret "${name}"`, result.stderr, [value]);
  }

  async remove(name: string): Promise<void> {
    const result = await this.secretTool(['clear', ...this.attributes(name)]);
    if (result.code !== 0 && result.stderr.trim() !== '') throw helperFailed('The Secret Service (secret-tool)', `remove secret "${name}"`, result.stderr, []);
  }

  private attributes(name: string): string[] {
    return ['xray-home', this.options.home, 'xray-secret', name];
  }

  private async secretTool(args: readonly string[], stdin?: string) {
    try {
      return await this.options.run('secret-tool', args, { env: this.options.env, timeoutMs: this.options.timeoutMs ?? HELPER_TIMEOUT_MS, ...(stdin !== undefined ? { stdin } : {}) });
    } catch (err) {
      throw notInstalled('secret-tool', err);
    }
  }
}

/**
 * FileBackend keeps each secret in its own file under XRAY_HOME/secrets
 * (directory 0700, files 0600), for hosts with neither keyring. A file that
 * is a link or that others may read is refused rather than trusted.
 */
export class FileBackend implements SecretBackend {
  readonly kind = 'file' as const;

  constructor(private readonly dir: string) {}

  async get(name: string): Promise<string | null> {
    const path = join(this.dir, name);
    let info;
    try {
      info = await lstat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    if (!info.isFile()) throw new XrayError('corrupt', `${path} is not a plain file; remove it and set secret "${name}" again.`);
    if ((info.mode & 0o077) !== 0) throw new XrayError('corrupt', `${path} can be read by other users; run "chmod 600 ${path}", and set secret "${name}" again if others may have read it.`);
    return readFile(path, 'utf8');
  }

  async set(name: string, value: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(this.dir, name), value, 0o600);
  }

  async remove(name: string): Promise<void> {
    await rm(join(this.dir, name), { force: true });
  }
}

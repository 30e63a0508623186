// Runs in: plain Node (core).
import { platform as hostPlatform } from 'node:os';
import { secretBackendSchema, type SecretBackendKind } from '../../shared/enums';
import { XrayError } from '../../shared/errors';
import type { SecretBackendInfo, SecretInfo } from '../../shared/models';
import { secretValueProblem } from '../../shared/secrets';
import { validateName } from '../names';
import type { HomePaths } from '../paths';
import type { FileLockOptions } from '../store/file-lock';
import { readToml, updateToml, type TomlTable } from '../store/toml-file';
import { FileBackend, KeychainBackend, SecretServiceBackend, type SecretBackend } from './backends';
import { type CommandRunner, runCommand } from './command';
import { probeSecretBackend, sessionBusAddress } from './probe';

export interface SecretStoreOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  /** run runs the helpers (`security`, `secret-tool`); for testing. */
  readonly run?: CommandRunner;
  readonly probeTimeoutMs?: number;
  readonly helperTimeoutMs?: number;
  readonly lock?: FileLockOptions;
}

export interface SecretList {
  readonly backend: SecretBackendInfo;
  readonly secrets: SecretInfo[];
}

/**
 * SecretStore keeps the secrets of one XRAY_HOME on the host. Values live in
 * a backend (the Keychain, the Secret Service or 0600 files); the index
 * `secrets.toml` holds names, dates and which backend was chosen, never a
 * value. The backend is chosen once, by XRAY_SECRET_BACKEND when set, else
 * by a probe, and recorded with the first secret, so every later process
 * looks where the values are. Values are read only by `reveal`, which the
 * egress proxy calls when it puts one into a request.
 */
export class SecretStore {
  private readonly env: NodeJS.ProcessEnv;
  private readonly platform: NodeJS.Platform;
  private readonly run: CommandRunner;
  private chosen: Promise<{ info: SecretBackendInfo; backend: SecretBackend }> | null = null;

  constructor(
    private readonly paths: HomePaths,
    private readonly options: SecretStoreOptions = {},
  ) {
    this.env = options.env ?? process.env;
    this.platform = options.platform ?? hostPlatform();
    this.run = options.run ?? runCommand;
  }

  /** backend says where values are kept and why, as `xray secret list` shows it. */
  async backend(): Promise<SecretBackendInfo> {
    return (await this.choose()).info;
  }

  /** list returns every secret's name and dates (sorted by name), and the backend. */
  async list(): Promise<SecretList> {
    const index = await this.readIndex();
    const secrets = Object.entries(index.secrets)
      .map(([name, entry]) => ({ name, createdAt: entry.created, updatedAt: entry.updated }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return { backend: await this.backend(), secrets };
  }

  /** set stores `value` under `name`, replacing any earlier value. */
  async set(name: string, value: string): Promise<SecretInfo> {
    validateName('secret', name);
    const problem = secretValueProblem(value);
    if (problem) throw new XrayError('invalid-argument', `Secret "${name}" was not stored: ${problem}.`);
    const { info, backend } = await this.choose();
    await backend.set(name, value);
    const now = new Date().toISOString();
    let result: SecretInfo = { name, createdAt: now, updatedAt: now };
    await updateToml(
      this.paths.secretsIndex,
      (raw) => {
        raw.backend = info.kind;
        raw.backend_reason = info.reason;
        const secrets = isTable(raw.secrets) ? { ...raw.secrets } : {};
        const previous = secrets[name];
        const created = isTable(previous) && typeof previous.created === 'string' ? previous.created : now;
        secrets[name] = { created, updated: now };
        raw.secrets = secrets;
        result = { name, createdAt: created, updatedAt: now };
      },
      0o600,
      this.options.lock,
    );
    return result;
  }

  /** reveal returns the value of `name`; for the egress proxy alone, which never logs it. */
  async reveal(name: string): Promise<string> {
    validateName('secret', name);
    const { backend } = await this.choose();
    const value = await backend.get(name);
    if (value === null) throw new XrayError('not-found', `Secret "${name}" is not set; run "xray secret set ${name}".`);
    return value;
  }

  /** remove deletes the secret; false when there was none of that name. */
  async remove(name: string): Promise<boolean> {
    validateName('secret', name);
    const { backend } = await this.choose();
    const known = name in (await this.readIndex()).secrets;
    await backend.remove(name);
    await updateToml(
      this.paths.secretsIndex,
      (raw) => {
        if (!isTable(raw.secrets)) return;
        const secrets = { ...raw.secrets };
        delete secrets[name];
        raw.secrets = secrets;
      },
      0o600,
      this.options.lock,
    );
    return known;
  }

  private choose(): Promise<{ info: SecretBackendInfo; backend: SecretBackend }> {
    this.chosen ??= this.decide().catch((err: unknown) => {
      this.chosen = null;
      throw err;
    });
    return this.chosen;
  }

  private async decide(): Promise<{ info: SecretBackendInfo; backend: SecretBackend }> {
    const forced = this.env.XRAY_SECRET_BACKEND;
    if (forced !== undefined && forced !== '') {
      const kind = secretBackendSchema.safeParse(forced);
      if (!kind.success) throw new XrayError('invalid-argument', `XRAY_SECRET_BACKEND is "${forced}"; set it to keychain, secret-service or file, or unset it.`);
      return this.open({ kind: kind.data, reason: `${describe(kind.data)} (XRAY_SECRET_BACKEND)` }, this.env);
    }
    const index = await this.readIndex();
    if (index.backend !== null) return this.open({ kind: index.backend, reason: `${describe(index.backend)} (where this home's secrets are kept)` }, this.env);
    const probed = await probeSecretBackend({ platform: this.platform, env: this.env, run: this.run, ...(this.options.probeTimeoutMs !== undefined ? { timeoutMs: this.options.probeTimeoutMs } : {}) });
    return this.open({ kind: probed.kind, reason: probed.reason }, probed.env);
  }

  private open(info: SecretBackendInfo, env: NodeJS.ProcessEnv): { info: SecretBackendInfo; backend: SecretBackend } {
    const helper = { run: this.run, env, home: this.paths.root, ...(this.options.helperTimeoutMs !== undefined ? { timeoutMs: this.options.helperTimeoutMs } : {}) };
    switch (info.kind) {
      case 'keychain':
        return { info, backend: new KeychainBackend(helper) };
      case 'secret-service': {
        const bus = sessionBusAddress(env);
        if (bus === null) {
          throw new XrayError('unsupported', 'Secrets are kept in the Secret Service, but this session has no D-Bus session bus; run Xray in your desktop session, or set XRAY_SECRET_BACKEND=file and set the secrets again.');
        }
        return { info, backend: new SecretServiceBackend({ ...helper, env: { ...env, DBUS_SESSION_BUS_ADDRESS: bus } }) };
      }
      case 'file':
        return { info, backend: new FileBackend(this.paths.secretsDir) };
    }
  }

  private async readIndex(): Promise<{ backend: SecretBackendKind | null; secrets: Record<string, { created: string; updated: string }> }> {
    let raw: TomlTable;
    try {
      raw = await readToml(this.paths.secretsIndex);
    } catch (err) {
      if (err instanceof XrayError && err.code === 'not-found') return { backend: null, secrets: {} };
      throw err;
    }
    const backend = raw.backend === undefined ? null : secretBackendSchema.safeParse(raw.backend);
    if (backend !== null && !backend.success) {
      throw new XrayError('corrupt', `${this.paths.secretsIndex}: key "backend" must be keychain, secret-service or file; fix the file.`);
    }
    const secrets: Record<string, { created: string; updated: string }> = {};
    for (const [name, entry] of Object.entries(isTable(raw.secrets) ? raw.secrets : {})) {
      const table = isTable(entry) ? entry : {};
      const created = typeof table.created === 'string' ? table.created : '';
      secrets[name] = { created, updated: typeof table.updated === 'string' ? table.updated : created };
    }
    return { backend: backend?.data ?? null, secrets };
  }
}

function describe(kind: SecretBackendKind): string {
  switch (kind) {
    case 'keychain':
      return 'the macOS Keychain (security)';
    case 'secret-service':
      return 'the Secret Service (secret-tool)';
    case 'file':
      return 'a private file under XRAY_HOME';
  }
}

function isTable(value: unknown): value is TomlTable {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * secretFromInput is the value a person typed or piped in: one trailing line
 * break (what `echo` and a prompt's Enter add) is not part of it.
 */
export function secretFromInput(text: string): string {
  return text.replace(/\r?\n$/, '');
}

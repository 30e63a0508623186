// Runs in: plain Node (core).
import type { GlobalSettings } from '../../shared/models';
import { XrayError } from '../../shared/errors';
import { parseDnsServer } from '../firewall/dns';
import { nameProblem } from '../../shared/names';
import { FIRMWARE_KEYS, SETTING_KEYS as KEY } from '../../shared/settings';
import type { HomePaths } from '../paths';
import type { FileLockOptions } from './file-lock';
import { badValue, boolean, isHttpUrl, parseBoolean, path, seconds, whole, type Setting, type SettingKey } from './setting-kinds';
import { describeValue, readToml, updateToml, type TomlTable } from './toml-file';

/**
 * settings maps XRAY_HOME/config.toml to GlobalSettings. Keys are snake_case
 * as the Python tool wrote them; keys Xray does not know survive rewrites.
 */

export const SETTINGS_DEFAULTS: GlobalSettings = {
  autostart: false,
  promptTimeoutSeconds: 300,
  defaultAction: 'ask',
  denyWhenNoClient: false,
  stopTimeoutSeconds: 10,
  bootTimeoutSeconds: null,
  sshKey: null,
  firmware: {},
  dnsServers: [],
  imageMirror: null,
  upstreamCaFile: null,
  autoSnapshots: false,
  autoSnapshotsKeep: 5,
};

const SETTINGS: readonly Setting[] = [
  {
    key: KEY.autostart,
    type: 'true | false | VM names, comma-separated',
    description: 'true launches Xray at login; a list of VM names starts those VMs when Xray starts.',
    check: (v) => (typeof v === 'boolean' || (Array.isArray(v) && v.every(isVmName)) ? null : 'true, false or a list of VM names'),
    fromText: (text) => {
      const flag = parseBoolean(text);
      if (flag !== null) return flag;
      const names = text.split(',').map((n) => n.trim()).filter((n) => n !== '');
      const bad = names.find((n) => !isVmName(n));
      if (bad !== undefined) throw badValue(KEY.autostart, text, `"${bad}" is not a valid VM name; give true, false or VM names separated by commas`);
      return names;
    },
  },
  seconds(KEY.promptTimeoutSeconds, 'Seconds a firewall prompt waits for an answer before the default action applies.'),
  {
    key: KEY.defaultAction,
    type: 'ask | deny',
    description: 'What happens to a connection no rule covers: ask the user, or deny it at once.',
    check: (v) => (v === 'ask' || v === 'deny' ? null : '"ask" or "deny"'),
    fromText: (text) => {
      if (text === 'ask' || text === 'deny') return text;
      throw badValue(KEY.defaultAction, text, 'it must be ask or deny');
    },
  },
  boolean(KEY.denyWhenNoClient, 'Deny unknown destinations at once when no window or CLI is there to answer a prompt.'),
  seconds(KEY.stopTimeoutSeconds, 'Seconds a VM gets to power off after the power button; then Xray sends poweroff over SSH, and kills it if that fails too.'),
  {
    ...seconds(
      KEY.bootTimeoutSeconds,
      'Seconds a booting VM gets to let Xray log in over SSH before Xray says why it has not (the VM keeps running); empty: 90 with HVF or KVM, 600 under TCG. XRAY_BOOT_TIMEOUT overrides it.',
    ),
    fromText: (text) => (text.trim() === '' ? undefined : seconds(KEY.bootTimeoutSeconds, '').fromText(text)),
  },
  path(KEY.sshKey, 'Private key used to reach guests over SSH; empty uses the key Xray generates per VM.'),
  {
    key: KEY.dnsServers,
    type: 'IP or IP:PORT, comma-separated',
    description: "DNS servers that answer the guests' lookups; empty follows the host's own resolver (hosts file and VPN resolvers included). XRAY_DNS_SERVERS overrides it.",
    check: (v) => (Array.isArray(v) && v.every((s) => typeof s === 'string' && parseDnsServer(s) !== null) ? null : 'a list of DNS server addresses ("IP" or "IP:PORT")'),
    fromText: (text) => {
      const entries = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (entries.length === 0) return undefined;
      return entries.map((entry) => {
        const server = parseDnsServer(entry);
        if (server === null) throw badValue(KEY.dnsServers, text, `"${entry}" is not an IP address, optionally with :PORT`);
        return server;
      });
    },
  },
  {
    key: KEY.imageMirror,
    type: 'http(s) URL',
    description: 'Where "base pull" fetches catalog images and checksums from instead of the vendors (MIRROR/HOST/PATH); XRAY_IMAGE_MIRROR overrides it.',
    check: (v) => (typeof v === 'string' && isHttpUrl(v) ? null : 'an http or https URL'),
    fromText: (text) => {
      const trimmed = text.trim();
      if (trimmed === '') return undefined;
      if (!isHttpUrl(trimmed)) throw badValue(KEY.imageMirror, text, 'it must be an http or https URL');
      return trimmed;
    },
  },
  path(KEY.upstreamCaFile, 'PEM file of extra CA certificates the egress proxy trusts, with the system\'s, when it verifies the real servers of intercepted hosts; XRAY_UPSTREAM_CA_FILE overrides it.'),
  boolean(KEY.autoSnapshots, 'VMs take snapshots by themselves: after their first boot, and before hooks and plugin commands marked risky; a VM\'s own auto_snapshots ("xray set VM --auto-snapshots") wins.'),
  whole(KEY.autoSnapshotsKeep, 'count', 'How many automatic snapshots each VM keeps; the oldest automatic ones are deleted, never those you took.', 1, 100),
  ...FIRMWARE_KEYS.map((name) =>
    path(`${KEY.firmware}.${name}`, `UEFI firmware ${name.endsWith('_code') ? 'code' : 'variables template'} for ${name.split('_').slice(0, -1).join('_')} guests; empty uses the one found on this host.`),
  ),
];

function isVmName(value: unknown): boolean {
  return typeof value === 'string' && nameProblem(value) === null;
}

/** lookup reads a dotted key ("firmware.x86_64_code") from a parsed file. */
function lookup(raw: TomlTable, key: string): unknown {
  const [head, tail] = splitKey(key);
  if (tail === null) return raw[head];
  const table = raw[head];
  return isTable(table) ? table[tail] : undefined;
}

function splitKey(key: string): [string, string | null] {
  const dot = key.indexOf('.');
  return dot < 0 ? [key, null] : [key.slice(0, dot), key.slice(dot + 1)];
}

function isTable(value: unknown): value is TomlTable {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * settingsFromToml validates a parsed config.toml; a bad value is a `corrupt`
 * error naming `file` and the key. Firmware keys Xray does not list are kept
 * as long as they are paths, so a newer Xray's keys still load.
 */
export function settingsFromToml(raw: TomlTable, file: string): GlobalSettings {
  const corrupt = (key: string, expected: string, found: unknown): XrayError =>
    new XrayError('corrupt', `${file}: key "${key}" must be ${expected} (found ${describeValue(found)}); fix the file.`);
  if (raw.firmware !== undefined && !isTable(raw.firmware)) throw corrupt('firmware', 'a table of firmware paths', raw.firmware);
  for (const setting of SETTINGS) {
    const value = lookup(raw, setting.key);
    if (value === undefined) continue;
    const expected = setting.check(value);
    if (expected !== null) throw corrupt(setting.key, expected, value);
  }
  const firmware: Record<string, string> = {};
  for (const [name, value] of Object.entries((raw.firmware as TomlTable | undefined) ?? {})) {
    if (typeof value !== 'string' || value === '') throw corrupt(`firmware.${name}`, 'a file path', value);
    firmware[name] = value;
  }
  return {
    autostart: (raw[KEY.autostart] as boolean | string[] | undefined) ?? SETTINGS_DEFAULTS.autostart,
    promptTimeoutSeconds: (raw[KEY.promptTimeoutSeconds] as number | undefined) ?? SETTINGS_DEFAULTS.promptTimeoutSeconds,
    defaultAction: (raw[KEY.defaultAction] as 'ask' | 'deny' | undefined) ?? SETTINGS_DEFAULTS.defaultAction,
    denyWhenNoClient: (raw[KEY.denyWhenNoClient] as boolean | undefined) ?? SETTINGS_DEFAULTS.denyWhenNoClient,
    stopTimeoutSeconds: (raw[KEY.stopTimeoutSeconds] as number | undefined) ?? SETTINGS_DEFAULTS.stopTimeoutSeconds,
    bootTimeoutSeconds: (raw[KEY.bootTimeoutSeconds] as number | undefined) ?? SETTINGS_DEFAULTS.bootTimeoutSeconds,
    sshKey: (raw[KEY.sshKey] as string | undefined) ?? SETTINGS_DEFAULTS.sshKey,
    firmware,
    dnsServers: (raw[KEY.dnsServers] as string[] | undefined) ?? SETTINGS_DEFAULTS.dnsServers,
    imageMirror: (raw[KEY.imageMirror] as string | undefined) ?? SETTINGS_DEFAULTS.imageMirror,
    upstreamCaFile: (raw[KEY.upstreamCaFile] as string | undefined) ?? SETTINGS_DEFAULTS.upstreamCaFile,
    autoSnapshots: (raw[KEY.autoSnapshots] as boolean | undefined) ?? SETTINGS_DEFAULTS.autoSnapshots,
    autoSnapshotsKeep: (raw[KEY.autoSnapshotsKeep] as number | undefined) ?? SETTINGS_DEFAULTS.autoSnapshotsKeep,
  };
}

export interface SettingsStoreOptions {
  readonly lock?: FileLockOptions;
}

/** SettingsStore reads and changes XRAY_HOME/config.toml. */
export class SettingsStore {
  private readonly lock: FileLockOptions;

  constructor(
    private readonly paths: HomePaths,
    options: SettingsStoreOptions = {},
  ) {
    this.lock = options.lock ?? {};
  }

  /** read returns the settings, defaults filling what the file leaves out (or the whole file when missing). */
  async read(): Promise<GlobalSettings> {
    const file = this.paths.configFile;
    try {
      return settingsFromToml(await readToml(file), file);
    } catch (err) {
      if (err instanceof XrayError && err.code === 'not-found') return { ...SETTINGS_DEFAULTS };
      throw err;
    }
  }

  /**
   * set parses `value` as `key` expects and writes it. An unknown key or a bad
   * value is refused before the file is touched; a file that does not parse,
   * or that would still hold a bad value elsewhere, is left as it was.
   */
  async set(key: string, value: string): Promise<GlobalSettings> {
    const setting = SETTINGS.find((s) => s.key === key);
    if (!setting) {
      throw new XrayError(
        'invalid-argument',
        `There is no setting "${key}"; use one of ${SETTINGS.map((s) => s.key).join(', ')}.`,
      );
    }
    const parsed = setting.fromText(value);
    const file = this.paths.configFile;
    let result: GlobalSettings = SETTINGS_DEFAULTS;
    await updateToml(
      file,
      (raw) => {
        const [head, tail] = splitKey(key);
        if (tail === null) {
          if (parsed === undefined) delete raw[head];
          else raw[head] = parsed;
        } else {
          const table = isTable(raw[head]) ? { ...(raw[head] as TomlTable) } : {};
          if (parsed === undefined) delete table[tail];
          else table[tail] = parsed;
          if (Object.keys(table).length === 0) delete raw[head];
          else raw[head] = table;
        }
        result = settingsFromToml(raw, file);
      },
      0o600,
      this.lock,
    );
    return result;
  }

  /** keys lists every settable key, for `xray config show` and shell completion. */
  keys(): SettingKey[] {
    return SETTINGS.map(({ key, description, type }) => ({ key, description, type }));
  }
}

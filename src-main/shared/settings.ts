// Runs in: anywhere (pure). The names of the global settings: the API's
// fields and the config.toml keys people type (`xray config set KEY VALUE`).
import type { GlobalSettings } from './models';

/**
 * SETTING_KEYS maps each GlobalSettings field to its key in config.toml,
 * snake_case as the original tool wrote them. `firmware` is a table whose
 * entries are set one at a time as `firmware.NAME` (FIRMWARE_KEYS).
 */
export const SETTING_KEYS = {
  autostart: 'autostart',
  promptTimeoutSeconds: 'prompt_timeout',
  defaultAction: 'default_action',
  denyWhenNoClient: 'deny_when_no_client',
  stopTimeoutSeconds: 'stop_timeout',
  bootTimeoutSeconds: 'boot_timeout',
  sshKey: 'ssh_key',
  dnsServers: 'dns_servers',
  imageMirror: 'image_mirror',
  upstreamCaFile: 'upstream_ca_file',
  autoSnapshots: 'auto_snapshots',
  autoSnapshotsKeep: 'auto_snapshots_keep',
  firmware: 'firmware',
} as const satisfies { readonly [K in keyof GlobalSettings]: string };

/** FIRMWARE_KEYS are the entries of the [firmware] table: UEFI code and variable template per guest architecture. */
export const FIRMWARE_KEYS = ['aarch64_code', 'aarch64_vars', 'x86_64_code', 'x86_64_vars'] as const;

/** SETTABLE_KEYS are the keys `xray config set` takes, in the order `xray config show` prints them. */
export const SETTABLE_KEYS: readonly string[] = [
  ...Object.values(SETTING_KEYS).filter((key) => key !== SETTING_KEYS.firmware),
  ...FIRMWARE_KEYS.map((name) => `${SETTING_KEYS.firmware}.${name}`),
];

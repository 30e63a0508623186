// Runs in: plain Node (core).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XrayError } from '../../shared/errors';
import { nodeCrypto } from '../builtins';

/**
 * NoCloudSeed is what a VM learns from its cloud-init seed at first boot: who
 * it is and who may log in. Nothing else about users is baked into images.
 */
export interface NoCloudSeed {
  /** instanceId changes when the VM must be treated as new (cloud-init reruns per-instance modules). */
  readonly instanceId: string;
  readonly hostname: string;
  /** user gets passwordless sudo and the keys; its password stays locked. */
  readonly user: string;
  readonly authorizedKeys: readonly string[];
  /**
   * uid is the number the user gets when it is free in the guest (the host
   * user's, so shared folders' files are the user's on both sides); when
   * another account has it, cloud-init picks one as usual.
   */
  readonly uid?: number;
  /**
   * extraUserData is appended as a second user-data part: a `#cloud-config`
   * document (its keys override ours, cloud-init's default merge) or any other
   * format cloud-init recognizes by its first line, such as a `#!` script.
   */
  readonly extraUserData?: string;
}

/** NOCLOUD_VOLUME_LABEL is the filesystem label cloud-init's NoCloud source looks for. */
export const NOCLOUD_VOLUME_LABEL = 'cidata';

const INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const HOSTNAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
const KEY_PATTERN = /^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( [^\r\n]*)?$/;
const HOSTNAME_MAX = 63;

/**
 * hostnameForVm turns a VM name (letters, digits, ".", "_", "-") into a valid
 * host name: lower case, with "." and "_" as "-", at most 63 characters.
 */
export function hostnameForVm(vmName: string): string {
  const name = vmName
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, HOSTNAME_MAX)
    .replace(/^-+|-+$/g, '');
  return name === '' ? 'xray-vm' : name;
}

/**
 * writeNoCloudSeed writes `meta-data` and `user-data` into `dir`, the files a
 * NoCloud seed volume holds. The VM sees the directory as a read-only FAT
 * drive labelled "cidata" (QEMU vvfat), so nothing else should be in it.
 */
export async function writeNoCloudSeed(dir: string, seed: NoCloudSeed): Promise<void> {
  validateSeed(seed);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'meta-data'), renderMetaData(seed));
  await writeFile(join(dir, 'user-data'), renderUserData(seed));
}

/**
 * renderMetaData writes the seed's YAML as JSON, which YAML parsers read as
 * flow style: no quoting rules to get wrong for names or key comments.
 */
export function renderMetaData(seed: NoCloudSeed): string {
  return `${JSON.stringify({ 'instance-id': seed.instanceId, 'local-hostname': seed.hostname }, null, 2)}\n`;
}

/** renderUserData writes the `#cloud-config` user-data, JSON like renderMetaData, MIME multipart when extraUserData is set. */
export function renderUserData(seed: NoCloudSeed): string {
  const config = {
    users: [
      {
        name: seed.user,
        shell: '/bin/bash',
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        lock_passwd: true,
        ssh_authorized_keys: seed.authorizedKeys.map((key) => key.trim()),
      },
    ],
    // bootcmd runs before cloud-init creates users, which then finds the user made and gives it its keys and sudo.
    ...(seed.uid !== undefined ? { bootcmd: [createUserWithUid(seed.user, seed.uid)] } : {}),
    disable_root: true,
    ssh_pwauth: false,
    // sudo looks the host name up on every call; an unresolvable one makes hooks slow and noisy.
    manage_etc_hosts: true,
  };
  const cloudConfig = `#cloud-config\n${JSON.stringify(config, null, 2)}\n`;
  if (seed.extraUserData === undefined || seed.extraUserData.trim() === '') return cloudConfig;
  return multipart([
    { contentType: 'text/cloud-config', filename: 'xray.cfg', body: cloudConfig },
    // text/plain makes cloud-init pick the part's type from its first line.
    { contentType: 'text/plain', filename: 'extra', body: seed.extraUserData },
  ]);
}

/** createUserWithUid makes the user with that uid unless the user or the uid exists already. */
function createUserWithUid(user: string, uid: number): string {
  return `getent passwd ${user} >/dev/null || getent passwd ${uid} >/dev/null || useradd --create-home --uid ${uid} --user-group --shell /bin/bash ${user}`;
}

interface MimePart {
  readonly contentType: string;
  readonly filename: string;
  readonly body: string;
}

/** multipart builds a MIME multipart/mixed document; base64 keeps any bytes of a part intact. */
function multipart(parts: readonly MimePart[]): string {
  const boundary = `xray-${nodeCrypto().randomBytes(12).toString('hex')}`;
  const lines = [`Content-Type: multipart/mixed; boundary="${boundary}"`, 'MIME-Version: 1.0', ''];
  for (const part of parts) {
    lines.push(
      `--${boundary}`,
      `Content-Type: ${part.contentType}; charset="utf-8"`,
      'MIME-Version: 1.0',
      'Content-Transfer-Encoding: base64',
      `Content-Disposition: attachment; filename="${part.filename}"`,
      '',
      ...(Buffer.from(part.body, 'utf8').toString('base64').match(/.{1,76}/g) ?? []),
    );
  }
  lines.push(`--${boundary}--`, '');
  return lines.join('\n');
}

function validateSeed(seed: NoCloudSeed): void {
  if (!INSTANCE_ID_PATTERN.test(seed.instanceId)) {
    invalid(`The cloud-init instance id "${seed.instanceId}" is not valid; use up to 128 letters, digits, ".", "_" or "-".`);
  }
  if (!HOSTNAME_PATTERN.test(seed.hostname)) {
    invalid(`The host name "${seed.hostname}" is not valid; use up to 63 lower-case letters, digits and inner dashes.`);
  }
  if (!USER_PATTERN.test(seed.user) || seed.user === 'root') {
    invalid(`The guest user "${seed.user}" is not valid; use a lower-case Unix user name other than root.`);
  }
  if (seed.uid !== undefined && (!Number.isInteger(seed.uid) || seed.uid < 1 || seed.uid >= 60000)) {
    invalid(`The guest user's uid ${seed.uid} is not one a user can have; use a number from 1 to 59999.`);
  }
  if (seed.authorizedKeys.length === 0) {
    invalid('No SSH public key was given for the guest user; pass at least one so Xray can log in.');
  }
  for (const key of seed.authorizedKeys) {
    if (!KEY_PATTERN.test(key.trim())) {
      invalid(`"${key.slice(0, 40)}" is not an OpenSSH public key line; pass the contents of a .pub file.`);
    }
  }
}

function invalid(message: string): never {
  throw new XrayError('invalid-argument', message);
}

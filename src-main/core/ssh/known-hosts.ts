// Runs in: plain Node (core).
import { readFile } from 'node:fs/promises';
import { XrayError } from '../../shared/errors';
import { serialized, writeFileAtomic } from '../store/toml-file';
import { nodeCrypto } from '../builtins';

/**
 * known-hosts pins each guest's SSH host key in vms/NAME/known_hosts, written
 * in OpenSSH's format so `ssh -o UserKnownHostsFile=…` checks the same pin.
 * Trust on first use: the first key seen is recorded, a different one later is
 * refused, because a changed key on a loopback port means the guest was
 * rebuilt or something else answers there.
 */

/** hostPattern is how OpenSSH names a host and port in known_hosts. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** keyTypeOf reads the algorithm name ("ssh-ed25519") at the start of an SSH public key blob. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** fingerprintOf renders a key blob as OpenSSH prints it ("SHA256:…"). */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${nodeCrypto().createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

interface Entry {
  readonly patterns: string;
  readonly type: string;
  readonly key: string;
}

export type HostKeyCheck = 'pinned' | 'known';

export interface HostKeyOptions {
  /** file is the known_hosts file that holds the pin. */
  readonly file: string;
  /** vm names the VM in the error sentence. */
  readonly vm: string;
  readonly host: string;
  readonly port: number;
}

/**
 * checkHostKey accepts `blob` when known_hosts has it for the host, pins it
 * when the file has no key for the host yet, and throws an `ssh` error when
 * the host has a different key.
 */
export function checkHostKey(opts: HostKeyOptions, blob: Buffer): Promise<HostKeyCheck> {
  const pattern = hostPattern(opts.host, opts.port);
  const offered = blob.toString('base64');
  return serialized(opts.file, async () => {
    const text = await readText(opts.file);
    const entries = parse(text).filter((entry) => matchesHost(entry.patterns, pattern));
    if (entries.some((entry) => entry.key === offered)) return 'known';
    if (entries.length > 0) throw hostKeyChanged(opts, blob);
    const prefix = text === '' || text.endsWith('\n') ? text : `${text}\n`;
    await writeFileAtomic(opts.file, `${prefix}${pattern} ${keyTypeOf(blob)} ${offered}\n`, 0o600);
    return 'pinned';
  });
}

/** pinnedKeyTypes lists the key algorithms pinned for the host, so the handshake can ask for those first. */
export async function pinnedKeyTypes(file: string, host: string, port: number): Promise<string[]> {
  const pattern = hostPattern(host, port);
  return parse(await readText(file)).filter((e) => matchesHost(e.patterns, pattern)).map((e) => e.type);
}

/**
 * forgetHostKey removes every pin for the host and returns how many lines it
 * removed; the next connection pins whatever key the guest then has.
 */
export function forgetHostKey(file: string, host: string, port: number): Promise<number> {
  const pattern = hostPattern(host, port);
  return serialized(file, async () => {
    const lines = (await readText(file)).split('\n');
    const kept = lines.filter((line) => {
      const entry = parseLine(line);
      return entry === null || !matchesHost(entry.patterns, pattern);
    });
    const removed = lines.length - kept.length;
    if (removed > 0) await writeFileAtomic(file, kept.join('\n'), 0o600);
    return removed;
  });
}

/** hostKeyChanged is the sentence a user sees when a guest's key no longer matches its pin. */
export function hostKeyChanged(opts: HostKeyOptions, blob: Buffer): XrayError {
  return new XrayError(
    'ssh',
    `The SSH host key of VM "${opts.vm}" changed since it was first seen (now ${keyTypeOf(blob)} ${fingerprintOf(blob)}); if you rebuilt the VM or regenerated its host keys, run "xray ssh-forget ${opts.vm}" and try again, otherwise stop the VM and find out what answers on port ${opts.port}.`,
  );
}

function parse(text: string): Entry[] {
  return text.split('\n').map(parseLine).filter((entry): entry is Entry => entry !== null);
}

function parseLine(line: string): Entry | null {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return null;
  const fields = trimmed.split(/\s+/);
  if (fields[0]?.startsWith('@')) return null;
  const [patterns, type, key] = fields;
  if (patterns === undefined || type === undefined || key === undefined) return null;
  return { patterns, type, key };
}

/** matchesHost checks a known_hosts host field, plain ("a,[b]:22") or hashed ("|1|salt|hash"). */
function matchesHost(patterns: string, pattern: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (salt === undefined || hash === undefined) return false;
    return nodeCrypto().createHmac('sha1', Buffer.from(salt, 'base64')).update(pattern).digest('base64') === hash;
  }
  return patterns.split(',').includes(pattern);
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

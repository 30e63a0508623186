import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { QmpClient } from '../../../src-main/core/qmp';

const run = promisify(execFile);

/** VARS_PROBE_OFFSET is inside the vars image of both OVMF 4M and AAVMF, past the variables. */
export const VARS_PROBE_OFFSET = 0x80000;

/**
 * writePattern fills 4 KiB of a running VM's drive with `byte` through HMP's
 * qemu-io (no guest OS needed) and flushes, so the image file shows it. Only
 * fixed test strings go through HMP here.
 */
export async function writePattern(client: QmpClient, device: string, offset: number, byte: number): Promise<void> {
  for (const command of [`write -P ${byte} ${offset} 4k`, 'flush']) {
    const output = await client.execute<string>('human-monitor-command', { 'command-line': `qemu-io ${device} "${command}"` });
    if (output !== '') throw new Error(`qemu-io ${device} "${command}" failed: ${output}`);
  }
}

/**
 * hasPattern reads the image file of a running VM with the qemu-io tool
 * (sharing QEMU's lock, read-only) and tells whether 4 KiB at `offset` all
 * equal `byte`.
 */
export async function hasPattern(file: string, offset: number, byte: number): Promise<boolean> {
  const { stdout } = await run('qemu-io', ['-U', '-r', '-f', 'qcow2', '-c', `read -P ${byte} ${offset} 4k`, file]);
  if (stdout.includes('Pattern verification failed')) return false;
  if (stdout.includes('read 4096/4096 bytes')) return true;
  throw new Error(`unexpected qemu-io output: ${stdout}`);
}

// Runs in: plain Node (core).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { SecretBackendInfo } from '../../shared/models';
import { type CommandRunner, firstLine } from './command';

/** PROBE_TIMEOUT_MS bounds each probe: a keyring that does not answer by then is not used. */
export const PROBE_TIMEOUT_MS = 5_000;

export interface ProbeOptions {
  readonly platform: NodeJS.Platform;
  readonly env: NodeJS.ProcessEnv;
  readonly run: CommandRunner;
  readonly timeoutMs?: number;
}

export interface ProbeResult extends SecretBackendInfo {
  /** env is what the chosen helper runs with (the session bus address made explicit). */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * sessionBusAddress is the D-Bus session bus a helper should use, or null
 * when there is none: DBUS_SESSION_BUS_ADDRESS, else the systemd user bus
 * socket at $XDG_RUNTIME_DIR/bus. Without one, libdbus may try to start a
 * bus through X11 (dbus-launch), which can hang or pop up; so without one,
 * no helper that speaks D-Bus is run at all.
 */
export function sessionBusAddress(env: NodeJS.ProcessEnv): string | null {
  const given = env.DBUS_SESSION_BUS_ADDRESS;
  if (given !== undefined && given.trim() !== '') return given;
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime === undefined || !runtime.startsWith('/')) return null;
  const socket = join(runtime, 'bus');
  try {
    return statSync(socket).isSocket() ? `unix:path=${socket}` : null;
  } catch {
    return null;
  }
}

/**
 * probeSecretBackend picks where secrets are kept: the Keychain on a Mac
 * (`security` answers), the Secret Service where a session bus exists and
 * `secret-tool` answers within PROBE_TIMEOUT_MS, else a private file under
 * XRAY_HOME. The reason it gives is what `xray secret list` says.
 */
export async function probeSecretBackend(options: ProbeOptions): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  const file = (why: string): ProbeResult => ({ kind: 'file', reason: `a private file under XRAY_HOME (${why})`, env: options.env });
  if (options.platform === 'darwin') {
    const answer = await ask(options.run, 'security', ['default-keychain'], options.env, timeoutMs);
    if (answer.ok) return { kind: 'keychain', reason: 'the macOS Keychain (security)', env: options.env };
    return file(`the Keychain did not answer: ${answer.why}`);
  }
  const bus = sessionBusAddress(options.env);
  if (bus === null) return file('no D-Bus session for the Secret Service');
  const env = { ...options.env, DBUS_SESSION_BUS_ADDRESS: bus };
  // A lookup that finds nothing exits 1 in silence; a missing or broken service says why on stderr.
  const answer = await ask(options.run, 'secret-tool', ['lookup', 'xray-probe', 'probe'], env, timeoutMs, [0, 1]);
  if (answer.ok) return { kind: 'secret-service', reason: 'the Secret Service (secret-tool)', env };
  return file(`the Secret Service did not answer: ${answer.why}`);
}

async function ask(
  run: CommandRunner,
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  silentCodes: readonly number[] = [0],
): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    const result = await run(command, args, { env, timeoutMs });
    if (result.timedOut) return { ok: false, why: `${command} gave no answer within ${Math.round(timeoutMs / 1000)} s` };
    if (result.code === 0) return { ok: true };
    if (result.code !== null && silentCodes.includes(result.code) && result.stderr.trim() === '') return { ok: true };
    return { ok: false, why: firstLine(result.stderr) || `${command} exited with status ${result.code ?? 'unknown'}` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, why: code === 'ENOENT' ? `${command} is not installed` : `${command} cannot be run (${code ?? String(err)})` };
  }
}

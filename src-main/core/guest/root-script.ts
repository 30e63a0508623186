// Runs in: plain Node (core).
import type { BuiltInHookContext } from '../hooks';
import type { SshSession } from '../ssh';

/** root-script runs the built-in hooks' shell scripts in the guest as root, and words how they failed. */

/** GUEST_PATH starts every script: sudo's secure_path differs between distributions. */
export const GUEST_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH';

export interface ScriptResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** asRoot runs a script as root with `sudo -n sh -s`, the script on stdin. */
export async function asRoot(ctx: BuiltInHookContext, session: SshSession, script: string, timeoutMs: number): Promise<ScriptResult> {
  let stdout = '';
  let stderr = '';
  const result = await session.exec('sudo -n sh -s', {
    stdin: script,
    timeoutMs,
    onStdout: (text) => {
      stdout += text;
      ctx.output('stdout', text);
    },
    onStderr: (text) => {
      stderr += text;
      ctx.output('stderr', text);
    },
  });
  return { code: result.code, signal: result.signal, stdout, stderr };
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}

/** why describes a failed script in a few words: its last error line, else how it ended. */
export function why(result: ScriptResult): string {
  return lastLine(result.stderr) || (result.signal ? `killed by ${result.signal}` : result.code === null ? 'the SSH connection closed before it finished' : `exit code ${result.code}`);
}

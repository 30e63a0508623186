// Test helper: runs the built `xray` CLI (bin/xray → dist/cli/xray.js) in a temporary XRAY_HOME.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const XRAY_BIN = join(REPO, 'bin', 'xray');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** xray runs the built CLI; a run longer than `timeoutMs` is killed (code 1). */
export function xray(home: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [XRAY_BIN, ...args],
      { env: { ...process.env, XRAY_HOME: home, NO_COLOR: '1', ...env }, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

export async function tempDir(prefix: string): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** qemuImg runs the real qemu-img synchronously and returns stdout. */
export function qemuImg(args: readonly string[]): string {
  const r = spawnSync('qemu-img', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** TerminalStep is one exchange at a terminal: once `expect` shows in the output, `send` is typed. */
export interface TerminalStep {
  readonly expect: string | RegExp;
  readonly send: string;
}

/**
 * xrayAtTerminal runs the built CLI on a real pseudo-terminal (util-linux
 * `script`), so stdin and stdout are TTYs as for a person, and types each
 * step's keys once its text has appeared. Output is the terminal's, with
 * CR LF line ends and escape sequences as they were drawn.
 */
export function xrayAtTerminal(home: string, args: readonly string[], steps: readonly TerminalStep[]): Promise<{ code: number; output: string }> {
  const command = [process.execPath, XRAY_BIN, ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
  return new Promise((resolvePromise) => {
    const child = execFile('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, XRAY_HOME: home, NO_COLOR: '1', TERM: 'xterm' }, timeout: 120_000 });
    let output = '';
    let next = 0;
    let seenUpTo = 0;
    child.stdout?.on('data', (chunk: Buffer) => {
      output += String(chunk);
      for (let step = steps[next]; step; step = steps[next]) {
        const rest = output.slice(seenUpTo);
        const found = typeof step.expect === 'string' ? rest.indexOf(step.expect) : rest.search(step.expect);
        if (found === -1) return;
        seenUpTo += found + 1;
        next += 1;
        child.stdin?.write(step.send);
      }
    });
    child.on('close', (code) => resolvePromise({ code: code ?? 1, output }));
  });
}

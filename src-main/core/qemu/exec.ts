// Runs in: plain Node (core).
import { accessSync, constants, statSync } from 'node:fs';
import { childProcess } from '../builtins';

/** ExecResult is what a finished helper process said; a non-zero exit is not an error here. */
export interface ExecResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * ExecFn runs a program to completion. The QEMU layer only runs short probes
 * (`--version`, `-accel help`, `nc -h`), so output is collected in memory.
 */
export type ExecFn = (file: string, args: readonly string[]) => Promise<ExecResult>;

/** ExistsFn tells whether `path` is a file this process may use (executable for binaries). */
export type ExistsFn = (path: string) => boolean;

const EXEC_TIMEOUT_MS = 10_000;

/**
 * execCollect is the default ExecFn. Many tools print their help to stderr and
 * exit non-zero (BSD nc), so both streams and the code are returned as-is;
 * only a program that cannot be started at all rejects.
 */
export const execCollect: ExecFn = (file, args) =>
  new Promise((resolve, reject) => {
    childProcess().execFile(file, [...args], { timeout: EXEC_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code === 'string') {
        reject(err);
        return;
      }
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });

/** isExecutableFile is the default ExistsFn for binaries. */
export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** isReadableFile is the default ExistsFn for firmware images. */
export function isReadableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

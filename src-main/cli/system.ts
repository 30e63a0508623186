// Runs in: plain Node (CLI). What commands ask of the host beyond Node:
// the system ssh client and the desktop's opener. node:child_process is loaded
// when one is run (process.getBuiltinModule), not by every command at start-up.
import { constants } from 'node:os';
import { XrayError } from '../shared/errors';

/** runSystemSsh runs ssh on this terminal and resolves with its exit status (128 + N when signal N ended it). */
export function runSystemSsh(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = process.getBuiltinModule('node:child_process').spawn('ssh', [...args], { stdio: 'inherit' });
    child.once('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new XrayError('missing-dependency', "The ssh command is not installed; install OpenSSH's client (openssh-client) and try again.", { cause: err }));
      } else reject(err);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)));
  });
}

/** openInBrowser hands a file or URL to the desktop's opener; failing to open is not fatal. */
export function openInBrowser(target: string): void {
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  const child = process.getBuiltinModule('node:child_process').spawn(opener, [target], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
}

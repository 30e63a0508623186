// Runs in: plain Node (core).
import { cpus, totalmem } from 'node:os';
import type { GuestArch } from '../shared/models';
import { childProcess, nodeNet } from './builtins';

/** hostArch maps Node's process.arch to the guest architecture that runs natively. */
export function hostArch(arch: string = process.arch): GuestArch {
  return arch === 'arm64' ? 'aarch64' : 'x86_64';
}

export interface HostResources {
  readonly totalMemoryMb: number;
  readonly cpuCount: number;
}

export function hostResources(): HostResources {
  return { totalMemoryMb: Math.floor(totalmem() / (1024 * 1024)), cpuCount: cpus().length };
}

/** isPortFree tells whether a TCP port can be bound on 127.0.0.1 right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = nodeNet().createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/** portHolder names the program listening on a TCP port ("nginx, pid 7"), when the host can tell. */
export function portHolder(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    childProcess().execFile('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], { timeout: 3000 }, (err, stdout) => {
      if (!err && stdout) {
        const pid = /^p(\d+)/m.exec(stdout)?.[1];
        const command = /^c(.+)$/m.exec(stdout)?.[1];
        if (command) return resolve(pid ? `${command}, pid ${pid}` : command);
      }
      childProcess().execFile('ss', ['-Hltnp', `sport = :${port}`], { timeout: 3000 }, (err2, out2) => {
        if (err2 || !out2) return resolve(null);
        const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(out2);
        resolve(m ? `${m[1]}, pid ${m[2]}` : null);
      });
    });
  });
}

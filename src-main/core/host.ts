// Runs in: plain Node (core).
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import type { GuestArch } from '../shared/models';

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
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

// Runs in: plain Node (core).
import { chmod, lstat, unlink } from 'node:fs/promises';
import type { Server, Socket } from 'node:net';
import { XrayError } from '../../shared/errors';
import { prepareSocketDir } from '../socket-dir';

/**
 * removeStaleSocket deletes a Unix socket left by an earlier run so listen()
 * can bind; anything at the path that is not a socket is refused, not deleted.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  try {
    const info = await lstat(path);
    if (!info.isSocket()) {
      throw new XrayError('in-use', `${path} exists and is not a socket; move it away and start the VM again.`);
    }
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** listenOn resolves once `server` listens, or rejects with the listen error (EADDRINUSE, EACCES…). */
export function listenOn(server: Server, options: { path: string } | { port: number; host: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A burst of guest connections arrives as a burst of `nc -U` processes; a
    // short accept queue would fail them with EAGAIN before we can accept.
    server.listen({ ...options, backlog: 1024 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * openListeners starts a server on the VM's Unix socket (mode 0600) and, for
 * tests and benchmarks, on a TCP port of 127.0.0.1; it returns the servers and
 * the TCP port actually bound.
 */
export async function openListeners(
  where: { readonly socketPath?: string; readonly tcpPort?: number },
  create: () => Server,
): Promise<{ servers: Server[]; tcpPort: number | null }> {
  const servers: Server[] = [];
  let tcpPort: number | null = null;
  if (where.socketPath) {
    await prepareSocketDir(where.socketPath);
    await removeStaleSocket(where.socketPath);
    const server = create();
    await listenOn(server, { path: where.socketPath });
    await chmod(where.socketPath, 0o600);
    servers.push(server);
  }
  if (where.tcpPort !== undefined) {
    const server = create();
    await listenOn(server, { port: where.tcpPort, host: '127.0.0.1' });
    const address = server.address();
    tcpPort = typeof address === 'object' && address ? address.port : null;
    servers.push(server);
  }
  return { servers, tcpPort };
}

/**
 * closeListeners destroys the open connections, stops the servers (emptying
 * `servers`) and removes the Unix socket, for a server's close().
 */
export async function closeListeners(servers: Server[], sockets: Iterable<Socket>, socketPath: string | undefined): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  servers.length = 0;
  if (socketPath) await unlink(socketPath).catch(() => undefined);
}

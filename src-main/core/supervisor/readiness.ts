// Runs in: plain Node (core).
import { connect } from 'node:net';

/**
 * sshBannerSeen tells whether an SSH server answers on 127.0.0.1:port. A bare
 * TCP connect proves nothing here: QEMU's user networking accepts forwarded
 * connections before the guest does, so we wait for the "SSH-" banner.
 */
export function sshBannerSeen(port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let seen = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      seen += chunk;
      if (seen.startsWith('SSH-')) done(true);
      else if (seen.length >= 4) done(false);
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

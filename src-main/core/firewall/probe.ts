// Runs in: plain Node (core).
import { type Server, type Socket, createServer } from 'node:net';
import { listenOn } from './listen';

/**
 * The firewall probe is how the built-in boot hook proves that an outside
 * address really reaches the VM's firewall: the guest fetches
 * `http://192.0.2.1/NONCE` and the firewall answers it itself instead of
 * connecting anywhere. 192.0.2.0/24 is TEST-NET-1 (RFC 5737), reserved for
 * documentation and routed nowhere, so no real destination is shadowed; it
 * is outside the guest's own subnet, so the connection takes the same route,
 * redirection and proxy as any connection to the internet.
 */
export const FIREWALL_PROBE_IP = '192.0.2.1';
export const FIREWALL_PROBE_PORT = 80;

/** PROBE_NONCE is what a probe request's path must be: nothing else is answered or remembered. */
const PROBE_NONCE = /^[A-Za-z0-9_-]{8,64}$/;
const REQUEST_CAP = 4096;
const REQUEST_TIMEOUT_MS = 10_000;
const REMEMBERED = 16;

/** probeBody is what the probe answers for `nonce`; the guest compares it. */
export function probeBody(nonce: string): string {
  return `xray-probe ${nonce}\n`;
}

/**
 * ProbeResponder answers probe requests on a loopback port that only the
 * VM's proxy sends them to, and remembers the last few nonces it answered,
 * so the host can check that a guest's probe arrived here and not elsewhere.
 */
export class ProbeResponder {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly nonces: string[] = [];
  private boundPort: number | null = null;

  get port(): number | null {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const server = createServer((socket) => this.serve(socket));
    await listenOn(server, { port: 0, host: '127.0.0.1' });
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : null;
    this.server = server;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** seen tells whether a probe with `nonce` was answered since the responder started. */
  seen(nonce: string): boolean {
    return this.nonces.includes(nonce);
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      head += chunk;
      if (head.length > REQUEST_CAP) {
        socket.destroy();
        return;
      }
      if (!head.includes('\r\n\r\n') && !head.includes('\n\n')) return;
      const nonce = /^GET \/([^ ?#]*) HTTP\/1\.[01]\r?\n/.exec(head)?.[1] ?? '';
      if (!PROBE_NONCE.test(nonce)) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      this.nonces.push(nonce);
      if (this.nonces.length > REMEMBERED) this.nonces.shift();
      const body = probeBody(nonce);
      socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
  }
}

// Test helper: free TCP ports on 127.0.0.1.
import { createServer } from 'node:net';

/** freePort asks the kernel for a free 127.0.0.1 port (ephemeral, so two test files will not pick the same one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// Runs in: plain Node (core).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { freemem } from 'node:os';

/**
 * availableMemoryMb is memory a new VM can take without pushing the host into
 * swap: MemAvailable on Linux (free memory alone ignores reclaimable cache),
 * os.freemem elsewhere.
 */
export async function availableMemoryMb(): Promise<number> {
  try {
    const meminfo = await readFile('/proc/meminfo', 'utf8');
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo);
    if (match) return Math.floor(Number(match[1]) / 1024);
  } catch {
    // Not Linux: fall through.
  }
  return Math.floor(freemem() / (1024 * 1024));
}

/** portHolder names the program listening on a TCP port, when the host can tell. */
export function portHolder(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], { timeout: 3000 }, (err, stdout) => {
      if (!err && stdout) {
        const pid = /^p(\d+)/m.exec(stdout)?.[1];
        const command = /^c(.+)$/m.exec(stdout)?.[1];
        if (command) return resolve(pid ? `${command} (pid ${pid})` : command);
      }
      execFile('ss', ['-Hltnp', `sport = :${port}`], { timeout: 3000 }, (err2, out2) => {
        if (err2 || !out2) return resolve(null);
        const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(out2);
        resolve(m ? `${m[1]} (pid ${m[2]})` : null);
      });
    });
  });
}

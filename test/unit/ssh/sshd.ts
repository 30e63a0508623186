// Test helper: a real OpenSSH sshd on a random 127.0.0.1 port, with a fresh
// host key and an authorized_keys file the test controls.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/ports';
import { generateEd25519 } from '../../../src-main/core/ssh/keys';

export interface TestSshd {
  readonly dir: string;
  readonly port: number;
  readonly user: string;
  /** clientKeyPath holds the private key authorized to log in. */
  readonly clientKeyPath: string;
  readonly clientPublicKey: string;
  /** start runs sshd (again), optionally with a new host key; resolves once it listens. */
  start(opts?: { newHostKey?: boolean }): Promise<void>;
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function makeSshd(): Promise<TestSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'xray-sshd-'));
  const port = await freePort();
  const user = userInfo().username;
  const client = generateEd25519();
  const clientKeyPath = join(dir, 'client_ed25519');
  await writeFile(clientKeyPath, client.private, { mode: 0o600 });
  await writeFile(`${clientKeyPath}.pub`, `${client.public}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'authorized_keys'), `${client.public}\n`, { mode: 0o600 });
  const hostKey = join(dir, 'host_ed25519');
  const writeHostKey = () => writeFile(hostKey, generateEd25519().private, { mode: 0o600 });
  await writeHostKey();
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PidFile none',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // sshd insists on its privilege separation directory, which a container may lack.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }).catch(() => undefined);
  let child: ChildProcess | null = null;

  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  };

  return {
    dir,
    port,
    user,
    clientKeyPath,
    clientPublicKey: client.public,
    async start(opts = {}) {
      await stop();
      if (opts.newHostKey) await writeHostKey();
      const proc = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config, '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = proc;
      let stderr = '';
      proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const deadline = Date.now() + 5_000;
      while (!(await listening(port))) {
        if (proc.exitCode !== null) throw new Error(`sshd exited: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`sshd did not listen: ${stderr}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    stop,
    async cleanup() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

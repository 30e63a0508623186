import { generateEd25519 } from '../../../src-main/core/ssh/keys';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XrayError } from '../../../src-main/shared/errors';
import { forgetHostKey } from '../../../src-main/core/ssh/known-hosts';
import { readPrivateKey } from '../../../src-main/core/ssh/keys';
import type { SshSession } from '../../../src-main/core/ssh/session';
import { waitForSsh, type WaitForSshOptions } from '../../../src-main/core/ssh/wait';
import { makeSshd, type TestSshd } from './sshd';

let sshd: TestSshd;
let work: string;

beforeAll(async () => {
  sshd = await makeSshd();
  work = await mkdtemp(join(tmpdir(), 'xray-ssh-test-'));
});

afterAll(async () => {
  await sshd.cleanup();
  await rm(work, { recursive: true, force: true });
});

async function options(overrides: Partial<WaitForSshOptions> = {}): Promise<WaitForSshOptions> {
  return {
    host: '127.0.0.1',
    port: sshd.port,
    username: sshd.user,
    privateKey: await readPrivateKey(sshd.clientKeyPath),
    knownHosts: join(work, 'known_hosts'),
    vm: 'web',
    timeoutMs: 15_000,
    ...overrides,
  };
}

async function capture(session: SshSession, command: string, timeoutMs?: number) {
  let stdout = '';
  let stderr = '';
  const result = await session.exec(command, { onStdout: (t) => (stdout += t), onStderr: (t) => (stderr += t), timeoutMs });
  return { ...result, stdout, stderr };
}

describe('waitForSsh against a real sshd', () => {
  it('keeps trying until sshd starts, logs in, and pins its host key where OpenSSH can use it', async () => {
    // How soon after sshd starts the login happens is measured in bench/ssh.ts.
    const waiting = waitForSsh(await options());
    await new Promise((r) => setTimeout(r, 400));
    await sshd.start();
    const session = await waiting;
    expect((await capture(session, 'echo ready')).stdout).toBe('ready\n');
    session.close();

    const pinned = await readFile(join(work, 'known_hosts'), 'utf8');
    expect(pinned).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 [A-Za-z0-9+/=]+\\n$`));
    const ssh = spawnSync('ssh', [
      '-i', sshd.clientKeyPath, '-p', String(sshd.port),
      '-o', `UserKnownHostsFile=${join(work, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes',
      '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-F', '/dev/null',
      `${sshd.user}@127.0.0.1`, 'echo via-openssh',
    ], { encoding: 'utf8', timeout: 20_000 });
    expect(ssh.stderr).toBe('');
    expect(ssh.stdout).toBe('via-openssh\n');
  });

  it('streams stdout and stderr and reports exit codes and signals', async () => {
    const session = await waitForSsh(await options());
    try {
      const failing = await capture(session, 'echo out; echo err >&2; exit 3');
      expect(failing).toEqual({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n' });
      const chunks: string[] = [];
      const streamed = await session.exec('for i in 1 2 3; do echo line$i; sleep 0.1; done', { onStdout: (t) => chunks.push(t) });
      expect(streamed.code).toBe(0);
      expect(chunks.length).toBeGreaterThan(1);
      expect(chunks.join('')).toBe('line1\nline2\nline3\n');
      const killed = await capture(session, 'kill -TERM $$');
      expect(killed.code).toBeNull();
      expect(killed.signal).toBe('SIGTERM');
    } finally {
      session.close();
    }
  });

  it('runs multi-line scripts with quotes and heredocs through stdin, leaving no temp file', async () => {
    const session = await waitForSsh(await options());
    try {
      const target = join(work, 'from-script.txt');
      const script = [
        'set -e',
        `cat > '${target}' <<'EOF'`,
        `it's "quoted" $HOME \`not run\``,
        'EOF',
        'name="two words"',
        'printf "%s|%s\\n" "$name" \'single $quote\'',
        'cat <<EOF >&2',
        'expanded: $name',
        'EOF',
      ].join('\n');
      let stdout = '';
      let stderr = '';
      const result = await session.runScript(script, { onStdout: (t) => (stdout += t), onStderr: (t) => (stderr += t) });
      expect(result.code).toBe(0);
      expect(stdout).toBe('two words|single $quote\n');
      expect(stderr).toBe('expanded: two words\n');
      expect(await readFile(target, 'utf8')).toBe('it\'s "quoted" $HOME `not run`\n');
      const failing = await session.runScript('echo before\nfalse\necho after', { shell: 'bash' });
      expect(failing.code).toBe(0);
      const strict = await session.runScript('set -e\nfalse\necho never');
      expect(strict.code).toBe(1);
    } finally {
      session.close();
    }
  });

  it('copies files over SFTP with the requested mode', async () => {
    const session = await waitForSsh(await options());
    try {
      const local = join(work, 'local.bin');
      const remote = join(work, 'remote.bin');
      const data = Buffer.alloc(300_000, 7);
      await writeFile(local, data);
      await session.copyFile(local, remote, 0o600);
      expect((await readFile(remote)).equals(data)).toBe(true);
      expect((await stat(remote)).mode & 0o777).toBe(0o600);
      await expect(session.copyFile(join(work, 'missing'), remote)).rejects.toThrow(/Copying .*missing.* failed/);
    } finally {
      session.close();
    }
  });

  it('stops a command that outlives its timeout and keeps the session usable', async () => {
    const session = await waitForSsh(await options());
    try {
      const started = Date.now();
      const err = await session.exec('sleep 30', { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(XrayError);
      expect((err as XrayError).code).toBe('timeout');
      expect((err as XrayError).message).toContain('"sleep 30" in VM "web" did not finish within 0.3 s');
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await capture(session, 'echo still-here')).stdout).toBe('still-here\n');
    } finally {
      session.close();
    }
  });

  it('reports a key the guest refuses after the timeout, in one sentence', async () => {
    const wrongKey = generateEd25519().private;
    const started = Date.now();
    const err = await waitForSsh(await options({ privateKey: wrongKey, timeoutMs: 1_500 })).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(err).toBeInstanceOf(XrayError);
    expect((err as XrayError).code).toBe('ssh');
    expect((err as XrayError).message).toBe(
      `VM "web" refused the SSH key for user "${sshd.user}" for 1.5 s; check ssh_user in its vm.toml and that the guest has the VM's public key (cloud-init installs it on first boot).`,
    );
  });

  it('times out with the last reason when nothing answers', async () => {
    const err = await waitForSsh(await options({ port: 1, timeoutMs: 500 })).catch((e: unknown) => e);
    expect((err as XrayError).code).toBe('timeout');
    expect((err as XrayError).message).toMatch(/^VM "web" did not answer on SSH at 127\.0\.0\.1:1 within 0\.5 s \(last error: .*ECONNREFUSED.*\); check "xray console web"/);
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    const waiting = waitForSsh(await options({ port: 1, signal: controller.signal }));
    setTimeout(() => controller.abort(), 200);
    await expect(waiting).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('refuses a changed host key at once, and accepts the new key after ssh-forget', async () => {
    const known = join(work, 'known_hosts');
    (await waitForSsh(await options())).close();
    const before = await readFile(known, 'utf8');
    await sshd.start({ newHostKey: true });
    const started = Date.now();
    const err = await waitForSsh(await options()).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(err).toBeInstanceOf(XrayError);
    expect((err as XrayError).code).toBe('ssh');
    expect((err as XrayError).message).toMatch(
      /^The SSH host key of VM "web" changed since it was first seen \(now ssh-ed25519 SHA256:[A-Za-z0-9+/]+\); if you rebuilt the VM or regenerated its host keys, run "xray ssh-forget web" and try again/,
    );
    expect(await readFile(known, 'utf8')).toBe(before);

    expect(await forgetHostKey(known, '127.0.0.1', sshd.port)).toBe(1);
    const session = await waitForSsh(await options());
    session.close();
    const after = await readFile(known, 'utf8');
    expect(after).not.toBe(before);
    expect(after.trim().split('\n')).toHaveLength(1);
  });
});

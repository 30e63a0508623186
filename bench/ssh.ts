// Issue 4 benchmark: from the guest's sshd accepting connections to the first
// hook starting, the path a booting VM takes (waitForSsh's retry loop, login,
// host-key pinning, then the hook runner), against one OpenSSH `ssh … true`
// login started the moment sshd listens, on a real sshd on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createService } from '../src-main/core/bootstrap';
import { HomePaths } from '../src-main/core/paths';
import { connectVm } from '../src-main/core/ssh';
import { makeSshd } from '../test/unit/ssh/sshd';
import { median, ms, tempHome, type Row } from './lib';

const RUNS = 5;

export async function benchSsh(): Promise<Row[]> {
  const sshd = await makeSshd();
  const home = await tempHome('xray-bench-ssh-');
  try {
    const paths = new HomePaths(home.root);
    const service = await createService(paths);
    const vm = paths.vm('guest');
    await mkdir(vm.dir, { recursive: true, mode: 0o700 });
    await writeFile(vm.config, `base = "none"\nssh_port = ${sshd.port}\nssh_user = "${sshd.user}"\nfirst_boot_completed = true\n`, { mode: 0o600 });
    await copyFile(sshd.clientKeyPath, vm.sshKey);
    await copyFile(`${sshd.clientKeyPath}.pub`, `${vm.sshKey}.pub`);
    const hook = join(paths.globalScripts('boot'), '10-mark');
    await writeFile(hook, '#!/bin/sh\ntrue\n');
    await chmod(hook, 0o755);

    const xray: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await sshd.stop();
      let hookStartedAt = 0;
      const stop = service.subscribe((e) => {
        if (e.type === 'hook.started' && hookStartedAt === 0) hookStartedAt = performance.now();
      });
      const target = await service.sshTarget('guest');
      const booting = (async () => {
        const session = await connectVm(paths, 'guest', target, { timeoutMs: 30_000 });
        try {
          await service.hooks.runLifecycle('guest', 'start', target, session);
        } finally {
          session.close();
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      await sshd.start();
      const listeningAt = performance.now();
      await booting;
      stop();
      xray.push(hookStartedAt - listeningAt);
    }

    const peer: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await sshd.stop();
      await sshd.start();
      const started = performance.now();
      execFileSync('ssh', ['-i', sshd.clientKeyPath, '-p', String(sshd.port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', `${sshd.user}@127.0.0.1`, 'true'], { stdio: 'ignore' });
      peer.push(performance.now() - started);
    }
    const x = median(xray);
    return [{ benchmark: 'sshd listening → first hook started', xray: ms(x), peer: `one OpenSSH login ${ms(median(peer))}`, ratio: `${(x / median(peer)).toFixed(2)}×`, target: '< 1 s', met: x < 1000 }];
  } finally {
    await sshd.cleanup();
    await home.cleanup();
  }
}

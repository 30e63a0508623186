// Runs in: plain Node (core).
import type { HomePaths } from '../paths';
import type { SettingsStore } from '../store/settings';
import type { VmStore } from '../store/vm-config';
import { readPrivateKey, resolveKey } from './keys';
import { waitForSsh, type SshSession } from './session';

/**
 * SshTarget is where and as whom Xray logs into a VM: QEMU forwards the
 * guest's port 22 to `port` on the host's loopback.
 */
export interface SshTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly keyPath: string;
}

export const SSH_HOST = '127.0.0.1';

/** vmSshTarget reads the VM's port and user from vm.toml and picks its key (config's ssh_key or the VM's own). */
export async function vmSshTarget(paths: HomePaths, vm: string, deps: { store: VmStore; settings: SettingsStore }): Promise<SshTarget> {
  const cfg = await deps.store.read(vm);
  const key = await resolveKey(paths.vm(vm), (await deps.settings.read()).sshKey);
  return { host: SSH_HOST, port: cfg.sshPort, user: cfg.sshUser, keyPath: key.privateKeyPath };
}

/** connectVm waits for the VM's sshd and logs in, checking the host key pinned in the VM's known_hosts. */
export async function connectVm(
  paths: HomePaths,
  vm: string,
  target: SshTarget,
  opts: { timeoutMs: number; retryMs?: number; signal?: AbortSignal; onRefused?: () => void },
): Promise<SshSession> {
  return waitForSsh({
    host: target.host,
    port: target.port,
    username: target.user,
    privateKey: await readPrivateKey(target.keyPath),
    knownHosts: paths.vm(vm).knownHosts,
    vm,
    timeoutMs: opts.timeoutMs,
    retryMs: opts.retryMs,
    signal: opts.signal,
    onRefused: opts.onRefused,
  });
}

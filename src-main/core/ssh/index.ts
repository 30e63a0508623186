// Runs in: plain Node (core).
export { SSH_HOST, connectVm, vmSshTarget, type SshTarget } from './connect';
export { ensureVmKey, readPrivateKey, resolveKey, type SshKey } from './keys';
export { checkHostKey, fingerprintOf, forgetHostKey, hostPattern, type HostKeyCheck } from './known-hosts';
export { SshSession, type ExecOptions, type ExecResult, type RunScriptOptions } from './session';
export { waitForSsh, type WaitForSshOptions } from './wait';

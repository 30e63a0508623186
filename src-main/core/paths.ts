// Runs in: plain Node (core).
import { homedir, platform, tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import type { HookType } from '../shared/enums';
import { nodeCrypto } from './builtins';

/**
 * Every file name Xray uses under XRAY_HOME lives here, so the layout is
 * written down once (see docs/ARCHITECTURE.md, "Storage").
 */

/**
 * Unix socket paths are limited by sockaddr_un.sun_path: 104 bytes on macOS,
 * 108 on Linux, both including the terminating NUL. We keep to the smaller one
 * on every host so a home that works on Linux also works on a Mac.
 */
export const UNIX_SOCKET_PATH_MAX = 103;

export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.XRAY_HOME;
  if (fromEnv && fromEnv.trim() !== '') return resolve(fromEnv);
  return join(homedir(), '.xray');
}


/**
 * child is join(dir, name) for a normalized absolute dir and a plain name,
 * spelled out: path.join normalizes character by character, which costs a
 * just-started CLI about 10 µs a call, and `xray list` makes several per VM.
 * Anything else goes through join.
 */
function child(dir: string, name: string): string {
  if (sep === '/' && PLAIN_NAME.test(name) && dir.startsWith('/') && !NOT_NORMAL_DIR.test(dir)) return `${dir}/${name}`;
  return join(dir, name);
}
/** PLAIN_NAME is one path segment other than "." and "..". */
const PLAIN_NAME = /^(?!\.\.?$)[^/]+$/;
/** NOT_NORMAL_DIR finds what join would rewrite in a dir: "//", a "." or ".." segment, a trailing "/". */
const NOT_NORMAL_DIR = /\/\/|\/\.\.?(?:\/|$)|\/$/;

/** HomePaths names the files of one XRAY_HOME. */
export class HomePaths {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get configFile(): string { return child(this.root, 'config.toml'); }
  get defaultFirewallRules(): string { return child(this.root, 'default-firewall-rules.conf'); }
  get basesDir(): string { return child(this.root, 'bases'); }
  get vmsDir(): string { return child(this.root, 'vms'); }
  get scriptsDir(): string { return child(this.root, 'scripts'); }
  get pluginsDir(): string { return child(this.root, 'plugins'); }
  get keysDir(): string { return child(this.root, 'keys'); }
  /** cacheDir holds files Xray can rebuild, such as converted UEFI variable templates. */
  get cacheDir(): string { return child(this.root, 'cache'); }
  /** secretsIndex lists the secrets (names and dates, never values) and where their values are kept. */
  get secretsIndex(): string { return child(this.root, 'secrets.toml'); }
  /** secretsDir holds secret values (0600 files) when neither the Keychain nor the Secret Service is used. */
  get secretsDir(): string { return child(this.root, 'secrets'); }
  get lockFile(): string { return child(this.root, 'supervisor.lock'); }
  get daemonLog(): string { return child(this.root, 'daemon.log'); }
  get controlSocket(): string { return socketPath(this.root, 'xray.sock'); }

  baseImage(name: string): string { return child(this.basesDir, `${name}.qcow2`); }
  baseMeta(name: string): string { return child(this.basesDir, `${name}.toml`); }
  /** vmTomlCache remembers what each VM's vm.toml parsed to, so listing VMs parses only the files that changed. */
  get vmTomlCache(): string { return child(this.cacheDir, 'vm-toml.json'); }
  /** overlayTemplates holds a base's first VM disk as it was made, which later VMs of that base copy. */
  overlayTemplates(base: string): string { return child(child(this.cacheDir, 'overlays'), base); }
  globalScripts(type: HookType): string { return child(this.scriptsDir, type); }

  vm(name: string): VmPaths { return new VmPaths(child(this.vmsDir, name)); }
}

/** ConsolePipePaths are the files of QEMU's `-chardev pipe,path=base`: base.in and base.out. */
export interface ConsolePipePaths {
  readonly base: string;
  readonly input: string;
  readonly output: string;
}

/** VmPaths names the files of one VM directory, runtime files included. */
export class VmPaths {
  constructor(readonly dir: string) {}

  get config(): string { return child(this.dir, 'vm.toml'); }
  get disk(): string { return child(this.dir, 'disk.qcow2'); }
  /**
   * efivars.qcow2 is the VM's UEFI variable store. It is qcow2 rather than raw
   * because QEMU refuses live snapshots while a writable raw pflash drive is
   * attached; qcow2 keeps the variables and lets them be snapshotted with the disk.
   */
  get efiVars(): string { return child(this.dir, 'efivars.qcow2'); }
  /** legacyEfiVars is the raw store older homes have; it is converted on start. */
  get legacyEfiVars(): string { return child(this.dir, 'efivars.fd'); }
  /** cloudInitSeed is the NoCloud seed directory QEMU shows the guest as a "cidata" drive. */
  get cloudInitSeed(): string { return child(this.dir, 'cidata'); }
  get pid(): string { return child(this.dir, 'pid'); }
  get consoleLog(): string { return child(this.dir, 'console.log'); }
  get qemuLog(): string { return child(this.dir, 'qemu.log'); }
  get hookLog(): string { return child(this.dir, 'hooks.log'); }
  /** hookRuns is a record of each finished hook run with the end of its output (JSON lines). */
  get hookRuns(): string { return child(this.dir, 'hook-runs.jsonl'); }
  get firewallLog(): string { return child(this.dir, 'firewall.log'); }
  /** learned is what the VM reached during its last learn run (`xray start --learn`), for review (JSON). */
  get learned(): string { return child(this.dir, 'learned.json'); }
  /** journal is the VM's timeline: starts, stops, snapshots, connections, prompts, hooks (JSON lines). */
  get journal(): string { return child(this.dir, 'journal.jsonl'); }
  get knownHosts(): string { return child(this.dir, 'known_hosts'); }
  get sshKey(): string { return child(this.dir, 'id_ed25519'); }
  /** egressCa is the VM's certificate authority for egress interception: the key (0600) stays on the host, the certificate goes to the guest. */
  get egressCa(): { key: string; certificate: string } {
    return { key: child(this.dir, 'egress-ca.key'), certificate: child(this.dir, 'egress-ca.crt') };
  }
  scripts(type: HookType): string { return child(child(this.dir, 'scripts'), type); }

  get qmpSocket(): string { return socketPath(this.dir, 'qmp.sock'); }
  get proxySocket(): string { return socketPath(this.dir, 'proxy.sock'); }
  get dnsSocket(): string { return socketPath(this.dir, 'dns.sock'); }
  /**
   * consolePipe is the serial console's pipe chardev: QEMU reads typed input
   * from `input` (console.in, a FIFO the supervisor writes to) and writes
   * output to `output` (console.out, a link to /dev/null), since console.log,
   * its logfile, is where the output is read from.
   */
  get consolePipe(): ConsolePipePaths {
    const base = child(this.dir, 'console');
    return { base, input: `${base}.in`, output: `${base}.out` };
  }

  /** runtimeFiles are removed whenever the VM stops, however it stopped. */
  get runtimeFiles(): string[] {
    return [this.pid, this.qmpSocket, this.proxySocket, this.dnsSocket, this.consolePipe.input, this.consolePipe.output];
  }
}

/**
 * socketPath returns dir/file when that fits in a Unix socket address, else a
 * path under a short per-user runtime directory derived from `dir`, so the same
 * directory always maps to the same socket (adoption after a restart relies on it).
 */
export function socketPath(dir: string, file: string): string {
  const natural = child(dir, file);
  if (Buffer.byteLength(natural) <= UNIX_SOCKET_PATH_MAX) return natural;
  return join(shortRuntimeDir(dir), file);
}

export function shortRuntimeDir(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  const digest = nodeCrypto().createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16);
  return join(shortRuntimeBase(env), digest);
}

/**
 * shortRuntimeBase is the per-user directory for sockets whose natural path
 * is too long: under XDG_RUNTIME_DIR where the session has one (private to
 * the user by design), under the per-user $TMPDIR on macOS, else under
 * /tmp, where another user could create it first: prepareSocketDir checks
 * ownership and mode before anything is put there.
 */
export function shortRuntimeBase(env: NodeJS.ProcessEnv = process.env): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const runtime = env.XDG_RUNTIME_DIR;
  const root = runtime && runtime.startsWith('/') ? runtime : platform() === 'darwin' ? tmpdir() : '/tmp';
  return join(root, `xray-${uid}`);
}

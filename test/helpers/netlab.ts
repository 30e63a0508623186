// Test helper: an internet of our own. A Linux network namespace joined to the
// host by a veth pair, with an HTTP server, an HTTPS server (signed by a fresh
// test CA), a non-HTTP TCP server and a DNS server on addresses from
// 198.18.0.0/15 (RFC 2544's benchmarking range, never routed on the internet).
// The namespace has no route beyond its own /24, so nothing a test sends
// through it leaves this machine. Needs root and iproute2.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIPv4 } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** SERVER_SCRIPT is the servers' process; scripts/build.mjs copies it beside the benchmark bundle, which imports this file. */
const SERVER_SCRIPT = fileURLToPath(new URL('./netlab-server.mjs', import.meta.url));
/**
 * NAMESPACE_PREFIX starts every namespace this helper makes, and its temp
 * directory in tmpdir(): `xray-net-<owner pid>-<subnet index>`.
 */
const NAMESPACE_PREFIX = 'xray-net-';
const NAMESPACE_PATTERN = /^xray-net-(\d+)-/;
/** SUBNET_COUNT is the number of /24s in 198.18.0.0/15. */
const SUBNET_COUNT = 512;
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * PORTS are the well-known ports a guest would use, 7000 for a protocol the
 * firewall cannot name, and 8080, where every address also answers HTTP, so
 * a rule that covers any port of a name or an address can be shown to work.
 */
const PORTS = { http: 80, https: 443, tcp: 7000, dns: 53, httpAlt: 8080 } as const;
/** HOSTS are each server's last octet in the namespace's /24 (.1 is the host's end). */
const HOSTS = { web: 10, tls: 11, tcp: 12, dns: 53 } as const;
const DEFAULT_NAMES: Readonly<Record<string, ServerName>> = {
  'api.example.test': 'web',
  'secure.example.test': 'tls',
  'raw.example.test': 'tcp',
};

/** ServerName names one of the namespace's servers. */
export type ServerName = keyof typeof HOSTS;

/** SeenRequest is one thing a server inside the namespace saw, as it reported it. */
export interface SeenRequest {
  readonly server: ServerName;
  /** method is the HTTP method, the DNS query type (A, AAAA, TYPE99…), or null for the raw TCP server. */
  readonly method: string | null;
  /** path is the HTTP request target; null for TCP and DNS. */
  readonly path: string | null;
  /** host is the HTTP Host header, or the DNS question's name in lower case; null for TCP. */
  readonly host: string | null;
  /** sni is the TLS server name the HTTPS server was asked for; null elsewhere. */
  readonly sni: string | null;
  /** authorization is the HTTP Authorization header as the server received it; null when there was none, and for TCP and DNS. */
  readonly authorization: string | null;
  readonly remoteAddress: string;
  /** at is when the server saw it, as an ISO 8601 time. */
  readonly at: string;
}

/** TestInternet is one running namespace and its servers; close() removes every trace of it. */
export interface TestInternet {
  readonly namespace: string;
  /** subnet is the namespace's /24, e.g. 198.18.7.0/24. */
  readonly subnet: string;
  /** hostAddress is the host's end of the veth pair. */
  readonly hostAddress: string;
  /** interfaces names the veth pair's ends: `host` on the host, `namespace` inside the namespace. */
  readonly interfaces: { readonly host: string; readonly namespace: string };
  /** addresses are the servers' addresses inside the namespace, all in `subnet`. */
  readonly addresses: Readonly<Record<ServerName, string>>;
  /** ports: HTTP on web, HTTPS on tls, the banner-and-echo server on tcp, DNS (UDP and TCP) on dns, HTTP on httpAlt of every address. */
  readonly ports: { readonly http: number; readonly https: number; readonly tcp: number; readonly dns: number; readonly httpAlt: number };
  /** names maps each name the DNS server answers (lower case, no trailing dot) to its A record. */
  readonly names: ReadonlyMap<string, string>;
  /** caCertPem is the test CA that signed the HTTPS server's certificate; caCertPath is the same PEM on disk. */
  readonly caCertPem: string;
  readonly caCertPath: string;
  /** dnsServer is "ADDRESS:PORT" of the namespace's DNS server, for Xray's dns_servers setting. */
  readonly dnsServer: string;
  /**
   * requests lists what the servers saw, oldest first. It waits for the
   * servers' report to catch up first, so a request answered before the call
   * is always in the list.
   */
  requests(): Promise<readonly SeenRequest[]>;
  close(): Promise<void>;
}

export interface TestInternetOptions {
  /** names adds DNS names: each maps to a server (its address) or to an IPv4 address. */
  readonly names?: Readonly<Record<string, ServerName | string>>;
}

export type TestInternetSupport = { readonly ok: true } | { readonly ok: false; readonly why: string };

/** Live is what the cleanup handlers need to undo an instance a test never closed. */
interface Live {
  readonly namespace: string;
  readonly hostInterface: string;
  readonly dir: string;
  child: ChildProcessWithoutNullStreams | null;
}

const live = new Set<Live>();
let cleanupHandlersInstalled = false;
let support: TestInternetSupport | null = null;

interface IpResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

function runIp(args: readonly string[]): IpResult {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, stdout: r.stdout ?? '', stderr: (r.stderr ?? r.error?.message ?? '').trim() };
}

function ip(args: readonly string[]): void {
  const r = runIp(args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr}`);
}

/**
 * testInternetSupport tells whether this machine can run a test internet:
 * root, iproute2 and openssl present, and network namespaces allowed (a
 * container without CAP_SYS_ADMIN refuses them). The answer is cached.
 */
export function testInternetSupport(): TestInternetSupport {
  support ??= probeSupport();
  return support;
}

function probeSupport(): TestInternetSupport {
  if (process.getuid?.() !== 0) return { ok: false, why: 'network namespaces need root' };
  if (!runIp(['-V']).ok) return { ok: false, why: 'iproute2 (`ip`) is not installed' };
  if (spawnSync('openssl', ['version']).status !== 0) return { ok: false, why: 'openssl is not installed' };
  const probe = `${NAMESPACE_PREFIX}${process.pid}-probe`;
  const made = runIp(['netns', 'add', probe]);
  if (!made.ok) return { ok: false, why: `network namespaces are not allowed here: ${made.stderr}` };
  runIp(['netns', 'del', probe]);
  return { ok: true };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * removeNamespace deletes the host ends of a namespace's veth pairs, which
 * takes both ends and their routes at once, and then the namespace. The
 * ends go first: `ip netns del` alone leaves them until the kernel tears the
 * namespace down, a second or more later, and while the namespace holds
 * their peers, no other instance can have made a link of the same name.
 */
function removeNamespace(namespace: string, hostInterfaces: readonly string[]): void {
  for (const name of hostInterfaces) runIp(['link', 'del', name]);
  runIp(['netns', 'del', namespace]);
}

/** vethsInto lists the host's veth ends whose peer is in `namespace`: the ends a dead process made. */
function vethsInto(namespace: string): string[] {
  return runIp(['-o', 'link', 'show', 'type', 'veth']).stdout.split('\n')
    .filter((line) => line.split(/\s+/).some((token, i, tokens) => token === namespace && tokens[i - 1] === 'link-netns'))
    .map((line) => /^\d+: ([^@:]+)/.exec(line)?.[1] ?? '')
    .filter(Boolean);
}

function ownerIsDead(name: string): boolean {
  const match = NAMESPACE_PATTERN.exec(name);
  return match !== null && !isAlive(Number(match[1]));
}

/** removeStaleInstances deletes the namespaces and temp directories of test processes that died without cleaning up. */
function removeStaleInstances(): void {
  for (const line of runIp(['netns', 'list']).stdout.split('\n')) {
    const namespace = line.split(' ')[0] ?? '';
    if (ownerIsDead(namespace)) removeNamespace(namespace, vethsInto(namespace));
  }
  for (const entry of readdirSync(tmpdir())) {
    if (ownerIsDead(entry)) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}

function subnetBase(index: number): string {
  return `198.${18 + (index >> 8)}.${index & 255}`;
}

function hostInterfaceName(index: number): string {
  return `xrnet${index}h`;
}

function innerInterfaceName(index: number): string {
  return `xrnet${index}n`;
}

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** overlaps tells whether network `cidr` (or a bare address) shares any address with the /24 at `base`. */
function overlaps(cidr: string, base: string): boolean {
  const [address = '', length = '32'] = cidr.split('/');
  const bits = Math.min(Number(length), 24);
  const size = 2 ** (32 - bits);
  return Math.floor(ipv4ToInt(address) / size) === Math.floor(ipv4ToInt(`${base}.0`) / size);
}

/** hostNetworks lists every IPv4 address and route destination on the host, so a claimed /24 clashes with none. */
function hostNetworks(): string[] {
  const text = `${runIp(['-4', '-o', 'addr', 'show']).stdout}\n${runIp(['-4', 'route', 'show', 'table', 'all']).stdout}`;
  return text.split(/\s+/).filter((token) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(token));
}

interface Claim {
  readonly index: number;
  readonly namespace: string;
}

/**
 * tryClaim makes the namespace and veth pair for subnet `index`, or returns
 * null when another instance holds it. The host end's name is the lock:
 * `ip link add` fails when it exists, so two processes never share a /24.
 */
function tryClaim(index: number): Claim | null {
  const namespace = `${NAMESPACE_PREFIX}${process.pid}-${index}`;
  const made = runIp(['netns', 'add', namespace]);
  if (!made.ok) {
    if (made.stderr.includes('File exists')) return null;
    throw new Error(`ip netns add ${namespace} failed: ${made.stderr}`);
  }
  const linked = runIp(['link', 'add', hostInterfaceName(index), 'type', 'veth', 'peer', 'name', innerInterfaceName(index), 'netns', namespace]);
  if (linked.ok) return { index, namespace };
  removeNamespace(namespace, []);
  if (linked.stderr.includes('File exists')) return null;
  throw new Error(`Creating the veth pair for ${namespace} failed: ${linked.stderr}`);
}

/** claimSubnet picks a /24 of 198.18.0.0/15 that is not on the host, starting at random to keep parallel runs apart. */
function claimSubnet(): Claim {
  const used = hostNetworks();
  const start = randomInt(SUBNET_COUNT);
  for (let i = 0; i < SUBNET_COUNT; i++) {
    const index = (start + i) % SUBNET_COUNT;
    if (used.some((network) => overlaps(network, subnetBase(index)))) continue;
    const claim = tryClaim(index);
    if (claim) return claim;
  }
  throw new Error('No /24 of 198.18.0.0/15 is free for a test internet; delete leftover xray-net-* namespaces with `ip netns del`.');
}

/**
 * configureLinks addresses both ends and brings them up. Both ends are
 * IPv4 only (addrgenmode none: no link-local IPv6), so the namespace's one
 * route is its /24.
 */
function configureLinks(claim: Claim, addresses: Readonly<Record<ServerName, string>>): void {
  const { index, namespace } = claim;
  const host = hostInterfaceName(index);
  const inner = innerInterfaceName(index);
  ip(['addr', 'add', `${subnetBase(index)}.1/24`, 'dev', host]);
  ip(['link', 'set', host, 'addrgenmode', 'none', 'up']);
  ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
  for (const address of Object.values(addresses)) ip(['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', inner]);
  ip(['-n', namespace, 'link', 'set', inner, 'addrgenmode', 'none', 'up']);
}

function openssl(args: readonly string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

/** makeCertificates writes a fresh test CA and a server certificate it signed for the tls address and *.example.test. */
function makeCertificates(dir: string, tlsAddress: string): { caPath: string; certPath: string; keyPath: string } {
  const caPath = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  const certPath = join(dir, 'server.pem');
  const keyPath = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const extensions = join(dir, 'server.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', caKey, '-out', caPath, '-days', '2', '-subj', '/CN=Xray test internet CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(['req', '-new', ...ec, '-keyout', keyPath, '-out', csr, '-subj', '/CN=secure.example.test']);
  writeFileSync(extensions, [
    'basicConstraints=CA:FALSE',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=DNS:secure.example.test,DNS:*.example.test,IP:${tlsAddress}`,
  ].join('\n'));
  openssl(['x509', '-req', '-in', csr, '-CA', caPath, '-CAkey', caKey, '-set_serial', String(randomInt(1, 2 ** 47)),
    '-days', '2', '-extfile', extensions, '-out', certPath]);
  return { caPath, certPath, keyPath };
}

/** normalizeName lower-cases a DNS name and drops a trailing dot, refusing anything that is not one. */
function normalizeName(name: string): string {
  const normal = name.toLowerCase().replace(/\.$/, '');
  if (!normal.split('.').every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label))) {
    throw new Error(`"${name}" is not a DNS name; pass names like extra.example.test.`);
  }
  return normal;
}

function nameTable(addresses: Readonly<Record<ServerName, string>>, extra: Readonly<Record<string, string>>): Map<string, string> {
  const names = new Map<string, string>();
  for (const [name, target] of Object.entries({ ...DEFAULT_NAMES, ...extra })) {
    const address = target in addresses ? addresses[target as ServerName] : target;
    if (!isIPv4(address)) throw new Error(`The test internet's name ${name} maps to "${target}"; use web, tls, tcp, dns or an IPv4 address.`);
    names.set(normalizeName(name), address);
  }
  return names;
}

/** removeAllNow undoes every live instance without waiting, as 'exit' and signal handlers must. */
function removeAllNow(): void {
  for (const instance of live) {
    instance.child?.kill('SIGKILL');
    removeNamespace(instance.namespace, [instance.hostInterface]);
    rmSync(instance.dir, { recursive: true, force: true });
  }
  live.clear();
}

/**
 * installCleanupHandlers undoes live instances when the process ends without
 * close(): on 'exit' (a thrown error, process.exit) and on SIGTERM, SIGINT or
 * SIGHUP (vitest stops its workers with SIGTERM, and 'exit' does not run
 * then). A signal is raised again once handled, so the process still ends
 * by it unless something else listens for it.
 */
function installCleanupHandlers(): void {
  if (cleanupHandlersInstalled) return;
  cleanupHandlersInstalled = true;
  process.on('exit', removeAllNow);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      removeAllNow();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Servers wraps the child process that runs every server inside the namespace. */
class Servers {
  private readonly seen: SeenRequest[] = [];
  private readonly pongs = new Map<number, () => void>();
  private nextPing = 1;
  private stderr = '';
  private exited: Error | null = null;
  private readonly exit: Promise<void>;
  readonly ready: Promise<void>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4096)));
    // A ping written after the servers died fails with EPIPE; the exit handler below reports that death.
    child.stdin.on('error', () => undefined);
    this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`The test internet's servers did not start within ${READY_TIMEOUT_MS / 1000} s: ${this.stderr}`)), READY_TIMEOUT_MS);
      createInterface({ input: child.stdout }).on('line', (line) => {
        const message = JSON.parse(line) as { type: string; request?: SeenRequest; id?: number };
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (message.type === 'seen' && message.request) this.seen.push(message.request);
        else if (message.type === 'pong') this.pongs.get(message.id ?? 0)?.();
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.exited = new Error(`The test internet's servers exited (${signal ?? `code ${code}`}): ${this.stderr.trim()}`);
        reject(this.exited);
        for (const pong of this.pongs.values()) pong();
      });
    });
  }

  /** requests pings the servers and waits for the pong: every request reported before it is then in `seen`. */
  async requests(): Promise<readonly SeenRequest[]> {
    if (this.exited) throw this.exited;
    const id = this.nextPing++;
    await new Promise<void>((resolve) => {
      this.pongs.set(id, resolve);
      this.child.stdin.write(`ping ${id}\n`);
    });
    this.pongs.delete(id);
    if (this.exited) throw this.exited;
    return [...this.seen];
  }

  /** stop ends the servers, by SIGTERM and, past STOP_TIMEOUT_MS, SIGKILL. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const killer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    this.child.stdin.end();
    this.child.kill('SIGTERM');
    await this.exit;
    clearTimeout(killer);
  }
}

/**
 * startTestInternet makes a namespace on a free /24 of 198.18.0.0/15, starts
 * its servers and waits until they listen. Namespaces left by test processes
 * that died are removed first. Call close() when done; a process that exits
 * or is terminated without it cleans up in its 'exit' and signal handlers,
 * and one killed outright (SIGKILL) is cleaned up by the next start anywhere
 * on the machine.
 */
export async function startTestInternet(options: TestInternetOptions = {}): Promise<TestInternet> {
  const supported = testInternetSupport();
  if (!supported.ok) throw new Error(`A test internet cannot run here: ${supported.why}.`);
  installCleanupHandlers();
  removeStaleInstances();
  const claim = claimSubnet();
  const base = subnetBase(claim.index);
  const instance: Live = { namespace: claim.namespace, hostInterface: hostInterfaceName(claim.index), dir: join(tmpdir(), claim.namespace), child: null };
  live.add(instance);
  // The instance stays live until its namespace is gone, so a signal while the servers stop still removes it.
  const teardown = async (servers: Servers | null): Promise<void> => {
    await servers?.stop();
    removeNamespace(instance.namespace, [instance.hostInterface]);
    rmSync(instance.dir, { recursive: true, force: true });
    live.delete(instance);
  };
  let servers: Servers | null = null;
  try {
    const addresses = Object.fromEntries(Object.entries(HOSTS).map(([name, host]) => [name, `${base}.${host}`])) as Record<ServerName, string>;
    const names = nameTable(addresses, options.names ?? {});
    // Named after the namespace, so the next start removes it if this process is killed. One already there is a dead process's.
    rmSync(instance.dir, { recursive: true, force: true });
    mkdirSync(instance.dir, { mode: 0o700 });
    configureLinks(claim, addresses);
    const certificates = makeCertificates(instance.dir, addresses.tls);
    const config = { addresses, ports: PORTS, names: Object.fromEntries(names), certPath: certificates.certPath, keyPath: certificates.keyPath };
    instance.child = spawn('ip', ['netns', 'exec', claim.namespace, process.execPath, SERVER_SCRIPT, JSON.stringify(config)]);
    servers = new Servers(instance.child);
    await servers.ready;
    const running = servers;
    let closing: Promise<void> | null = null;
    return {
      namespace: claim.namespace,
      subnet: `${base}.0/24`,
      hostAddress: `${base}.1`,
      interfaces: { host: instance.hostInterface, namespace: innerInterfaceName(claim.index) },
      addresses,
      ports: PORTS,
      names,
      caCertPem: readFileSync(certificates.caPath, 'utf8'),
      caCertPath: certificates.caPath,
      dnsServer: `${addresses.dns}:${PORTS.dns}`,
      requests: () => running.requests(),
      close: () => (closing ??= teardown(running)),
    };
  } catch (error) {
    await teardown(servers);
    throw error;
  }
}

// The Xray side of the egress benchmark, in its own process: a VM firewall
// with interception, as the supervisor builds it, on a TCP port. Prints one
// JSON line: the proxy's port and the path of the VM's CA certificate.
// argv[2] is the PEM file of the CA that signed the benchmark's server (the
// documented upstream_ca_file).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirewallLog, NameCache, PromptBroker, RuleSet, VmFirewall, parseRuleTarget } from '../src-main/core/firewall';
import { Interceptor } from '../src-main/core/firewall/intercept';
import { VmCertificateAuthority } from '../src-main/core/firewall/tls-ca';
import { upstreamTrust } from '../src-main/core/firewall/upstream-trust';
import { makePlaceholder } from '../src-main/core/secrets/bindings';
import { HomePaths } from '../src-main/core/paths';

/** BENCH_VALUE is the secret the proxy puts in place of the placeholder; the server ignores it. */
const BENCH_VALUE = 'bench-secret-value';

/**
 * main starts the firewall: a rule allows *.bench.test; the guest is
 * pretended to have looked up sealed.bench.test (127.0.0.1), which has a
 * secret bound to it and so is intercepted, and open.bench.test (127.0.0.2),
 * which has not and is relayed end to end.
 */
async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'xray-bench-egress-'));
  const rules = new RuleSet();
  rules.add({ target: parseRuleTarget('*.bench.test'), action: 'allow', lifetime: { kind: 'forever' } });
  const nameCache = new NameCache();
  nameCache.record('127.0.0.1', 'sealed.bench.test', 24 * 3600);
  nameCache.record('127.0.0.2', 'open.bench.test', 24 * 3600);
  const files = new HomePaths(dir).vm('bench').egressCa;
  const ca = await VmCertificateAuthority.open('bench', files);
  const binding = { secret: 'bench', hosts: ['sealed.bench.test'], header: 'Authorization', format: 'Bearer {}', placeholder: makePlaceholder('bench'), env: 'BENCH_TOKEN' };
  const interceptor = new Interceptor({
    vm: 'bench',
    ca,
    trust: await upstreamTrust({ extraCaFile: process.argv[2] ?? null, env: {} }),
    reveal: async () => BENCH_VALUE,
    report: () => undefined,
  });
  const log = new FirewallLog({ file: join(dir, 'firewall.log') });
  const firewall = new VmFirewall({
    vm: 'bench',
    proxySocket: join(dir, 'proxy.sock'),
    dnsSocket: join(dir, 'dns.sock'),
    rules,
    broker: new PromptBroker({ emit: () => undefined, clientCount: () => 0, rulesFor: () => rules, persist: async () => undefined }),
    nameCache,
    emit: () => undefined,
    log,
    isHostAddress: () => false,
    tcpPorts: { proxy: 0 },
    egress: { interceptor, bindings: () => [binding] },
  });
  await firewall.start();
  process.once('SIGTERM', () => {
    void firewall
      .stop()
      .then(() => log.close())
      .finally(() => rm(dir, { recursive: true, force: true }).finally(() => process.exit(0)));
  });
  process.stdout.write(`${JSON.stringify({ port: firewall.ports.proxy, ca: files.certificate, placeholder: binding.placeholder })}\n`);
}

await main();

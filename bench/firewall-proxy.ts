// The Xray side of the firewall benchmark, in its own process (and bundle,
// so it carries only what the supervisor would): prints its proxy's port.
// Arguments are more IPv4 addresses that stand in for the internet beside
// loopback (the test internet's servers).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirewallLog, NameCache, PromptBroker, RuleSet, VmFirewall, parseRuleTarget } from '../src-main/core/firewall';
import { HomePaths } from '../src-main/core/paths';
import { DEFAULT_RULE_DOMAINS } from '../src-main/core/store/default-rules';
import { Journal } from '../src-main/core/vms/journal';

/**
 * main starts a VM firewall as the supervisor builds it (default rules, a
 * log file, a prompt broker, its decisions recorded in the VM's journal),
 * with its proxy on a TCP port.
 * The guest is pretended to have looked up bench.xray-bench.test through the
 * VM's DNS, a rule allows that name, and loopback stands in for the internet,
 * so each connection takes the same decision path an allowed one takes in a VM.
 * Each address passed as an argument is known by that name too.
 */
async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'xray-bench-fw-'));
  const rules = new RuleSet([], DEFAULT_RULE_DOMAINS);
  rules.add({ target: parseRuleTarget('*.xray-bench.test'), action: 'allow', lifetime: { kind: 'forever' } });
  const nameCache = new NameCache();
  for (const address of ['127.0.0.1', ...process.argv.slice(2)]) nameCache.record(address, 'bench.xray-bench.test', 24 * 3600);
  const log = new FirewallLog({ file: join(dir, 'firewall.log') });
  const paths = new HomePaths(dir);
  await mkdir(paths.vm('bench').dir, { recursive: true });
  const journal = new Journal(paths, () => undefined);
  const firewall = new VmFirewall({
    vm: 'bench',
    proxySocket: join(dir, 'proxy.sock'),
    dnsSocket: join(dir, 'dns.sock'),
    rules,
    broker: new PromptBroker({ emit: () => undefined, clientCount: () => 0, rulesFor: () => rules, persist: async () => undefined }),
    nameCache,
    emit: (event) => journal.observe(event),
    log,
    isHostAddress: () => false,
    tcpPorts: { proxy: 0 },
  });
  await firewall.start();
  process.once('SIGTERM', () => {
    void firewall
      .stop()
      .then(() => Promise.all([log.close(), journal.close()]))
      .finally(() => rm(dir, { recursive: true, force: true }).finally(() => process.exit(0)));
  });
  process.stdout.write(`${firewall.ports.proxy}\n`);
}

await main();

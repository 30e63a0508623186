// Runs in: plain Node, inside the test internet's network namespace, started
// by bench/dns.ts. There /etc/resolv.conf names the namespace's DNS server
// (ip netns exec binds /etc/netns/NAME/resolv.conf over it), so the host's
// resolver (getaddrinfo) and a resolver pointed at that server (c-ares) ask
// the same server and can be compared. Prints one JSON line of timings.
import { performance } from 'node:perf_hooks';
import { type DnsResolver, hostResolver, serverResolver } from '../src-main/core/firewall/dns';

const [server = '', count = '200'] = process.argv.slice(2);
const names = Array.from({ length: Number(count) }, (_, i) => `n${i}.bench.test`);

async function sequential(resolver: DnsResolver, prefix: string): Promise<number[]> {
  const times: number[] = [];
  for (const name of names) {
    const start = performance.now();
    await resolver.resolve4(`${prefix}${name}`);
    times.push(performance.now() - start);
  }
  return times;
}

async function together(resolver: DnsResolver, prefix: string): Promise<number> {
  const start = performance.now();
  await Promise.all(names.map((name) => resolver.resolve4(`${prefix}${name}`)));
  return performance.now() - start;
}

// Each pass asks for names of its own, so no answer comes from a cache.
const result = {
  hostSequential: await sequential(hostResolver(), 'a.'),
  serverSequential: await sequential(serverResolver([server]), 'b.'),
  hostTogether: await together(hostResolver(), 'c.'),
  serverTogether: await together(serverResolver([server]), 'd.'),
};
process.stdout.write(`${JSON.stringify(result)}\n`);

// Guest DNS: what answering the guests' lookups through the host's own
// resolver (getaddrinfo, the default: hosts file, VPN and per-domain
// resolvers) costs next to asking a DNS server directly (c-ares, what
// `dns_servers` does), both against the same server in the test internet.
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestInternet, testInternetSupport } from '../test/helpers/netlab';
import { median, ms, type Row } from './lib';

const run = promisify(execFile);
const NAMES = 200;

export async function benchDns(probeScript: string): Promise<Row[]> {
  const support = testInternetSupport();
  if (!support.ok) {
    return [{ benchmark: 'guest DNS answers', xray: 'not measured', peer: 'skipped', ratio: '—', target: `informational (${support.why})`, met: true }];
  }
  const zone = ['a', 'b', 'c', 'd'].flatMap((prefix) => Array.from({ length: NAMES }, (_, i) => [`${prefix}.n${i}.bench.test`, 'web'] as const));
  const net = await startTestInternet({ names: Object.fromEntries(zone) });
  const netnsDir = join('/etc/netns', net.namespace);
  try {
    await mkdir(netnsDir, { recursive: true });
    await writeFile(join(netnsDir, 'resolv.conf'), `nameserver ${net.addresses.dns}\n`);
    const { stdout } = await run('ip', ['netns', 'exec', net.namespace, process.execPath, probeScript, net.addresses.dns, String(NAMES)]);
    const t = JSON.parse(stdout) as { hostSequential: number[]; serverSequential: number[]; hostTogether: number; serverTogether: number };
    const hostP50 = median(t.hostSequential);
    const serverP50 = median(t.serverSequential);
    return [
      {
        benchmark: `guest DNS lookup, one at a time (${NAMES} names), p50`,
        xray: `host resolver (getaddrinfo) ${ms(hostP50)}`,
        peer: `DNS server directly (c-ares) ${ms(serverP50)}`,
        ratio: `${(hostP50 / serverP50).toFixed(2)}×`,
        target: 'informational',
        met: true,
      },
      {
        benchmark: `guest DNS lookups, ${NAMES} at once`,
        xray: `host resolver ${ms(t.hostTogether)}`,
        peer: `DNS server directly ${ms(t.serverTogether)}`,
        ratio: `${(t.hostTogether / t.serverTogether).toFixed(2)}×`,
        target: 'informational',
        met: true,
      },
    ];
  } finally {
    await rm(netnsDir, { recursive: true, force: true });
    await net.close();
  }
}

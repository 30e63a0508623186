// `npm run bench`: runs every benchmark, prints its table and writes bench/RESULTS.md;
// given a suite (`node dist/bench/run.js . firewall`), runs that one and replaces its section.
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { benchFoundation } from './foundation';
import type { Row } from './lib';
import { fileURLToPath } from 'node:url';
import { benchConnections } from './connections';
import { benchDns } from './dns';
import { benchEgress } from './egress';
import { benchFirewall } from './firewall';
import { benchRender } from './render';
import { benchShares } from './shares';
import { benchSsh } from './ssh';
import { benchSupervisor } from './supervisor';

const repo = resolve(process.argv[2] ?? '.');
const suites: [string, () => Promise<Row[]>][] = [
  ['Foundation (issue 2)', () => benchFoundation(repo)],
  ['Supervisor (issue 3)', () => benchSupervisor()],
  ['Guests (issue 4)', () => benchSsh()],
  ['Firewall (issue 5)', () => benchFirewall(join(dirname(fileURLToPath(import.meta.url)), 'firewall-proxy.js'))],
  ['Guest DNS (issue 10)', () => benchDns(join(dirname(fileURLToPath(import.meta.url)), 'dns-probe.js'))],
  ['Egress interception (issue 15)', () => benchEgress(join(dirname(fileURLToPath(import.meta.url)), 'egress-proxy.js'))],
  ['Desktop app (issue 6)', () => benchRender(repo)],
  ['Shared folders (issue 13)', () => benchShares(repo)],
  ['Open connections (issue 14)', () => benchConnections()],
];

const only = process.argv[3];
const resultsFile = join(repo, 'bench', 'RESULTS.md');
const header = '# Benchmark results\n\nMeasured by `npm run bench` (all suites), or `node dist/bench/run.js . SUITE` after `npm run build` (one suite, whose section alone is replaced). Each ratio is against a peer measured in the same run.\n';
const measured = `Measured on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, QEMU under TCG.`;
/** sections are the results file's sections by title: kept from the file for a one-suite run, all new otherwise. */
const sections = new Map<string, string>(only ? readSections(await readFile(resultsFile, 'utf8').catch(() => '')) : []);
let failed = 0;
for (const [title, run] of suites) {
  if (only && !title.toLowerCase().includes(only.toLowerCase())) continue;
  process.stdout.write(`\n${title}\n`);
  const rows = await run();
  let section = `${measured}\n\n| benchmark | Xray | peer | ratio | target | met |\n|---|---|---|---|---|---|\n`;
  for (const row of rows) {
    process.stdout.write(`  ${row.benchmark}: ${row.xray} vs ${row.peer} → ${row.ratio} (target ${row.target}) ${row.met ? 'ok' : 'MISSED'}\n`);
    section += `| ${row.benchmark} | ${row.xray} | ${row.peer} | ${row.ratio} | ${row.target} | ${row.met ? 'yes' : '**no**'} |\n`;
    if (!row.met) failed++;
  }
  sections.set(title, section);
}
const ordered = suites.map(([title]) => title).filter((title) => sections.has(title));
await writeFile(resultsFile, header + ordered.map((title) => `\n## ${title}\n\n${sections.get(title)}`).join(''));
process.stdout.write(`\n${failed === 0 ? 'All targets met.' : `${failed} target(s) missed.`}\n`);

/** readSections splits a results file into its sections' bodies by title (a section from before sections carried their own date gets none). */
function readSections(text: string): [string, string][] {
  return text
    .split(/^## /m)
    .slice(1)
    .map((part): [string, string] => {
      const newline = part.indexOf('\n');
      return [part.slice(0, newline).trim(), part.slice(newline).trim() + '\n'];
    });
}

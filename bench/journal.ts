// Issue 14: what the flight recorder costs each connection. Every firewall
// decision becomes a timeline entry in the VM's journal.jsonl: recorded on
// the connection's path (Journal.observe), written to the file later in
// batches. Both are timed here per decision, and set beside the latency the
// proxy adds to a connection, measured in the same run (bench/firewall.ts).
import { mkdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { XrayEvent } from '../src-main/shared/contract';
import { HomePaths } from '../src-main/core/paths';
import { Journal } from '../src-main/core/vms/journal';
import { tempHome, type Row } from './lib';

/** JournalCost is the journal's work per firewall decision, in microseconds. */
export interface JournalCost {
  /** onPathUs is what the decision's caller waits for: the entry made, kept and announced. */
  readonly onPathUs: number;
  /** writeUs is the batched write to journal.jsonl that follows, off the connection's path. */
  readonly writeUs: number;
}

const ROUNDS = 100;
/** PER_ROUND is about what a busy VM decides between two of the journal's writes (200 ms apart). */
const PER_ROUND = 200;
const VM = 'bench';

function decision(i: number): XrayEvent {
  return {
    type: 'firewall.decision',
    vm: VM,
    destination: { ip: `198.18.${(i >> 8) & 0xff}.${i & 0xff}`, port: 443, name: `host-${i % 500}.example.test`, nameSource: 'dns', service: 'https' },
    action: 'allow',
    reason: 'rule *.example.test',
    rule: '*.example.test',
  };
}

/**
 * measureJournal feeds a real Journal ROUNDS × PER_ROUND decisions (after a
 * warm-up round), timing the calls the firewall's emit makes and, after each
 * round, the write of what it gathered (close() writes and lets go; the next
 * entry opens the file again, as after a quiet spell).
 */
export async function measureJournal(): Promise<JournalCost> {
  const home = await tempHome('xray-bench-journal-');
  const paths = new HomePaths(home.root);
  await mkdir(paths.vm(VM).dir, { recursive: true });
  const journal = new Journal(paths, () => undefined);
  try {
    let onPath = 0;
    let writing = 0;
    for (let round = -1; round < ROUNDS; round++) {
      const events = Array.from({ length: PER_ROUND }, (_, i) => decision(round * PER_ROUND + i));
      const started = performance.now();
      for (const event of events) journal.observe(event);
      const observed = performance.now();
      await journal.close();
      if (round < 0) continue;
      onPath += observed - started;
      writing += performance.now() - observed;
    }
    const n = ROUNDS * PER_ROUND;
    return { onPathUs: (onPath / n) * 1000, writeUs: (writing / n) * 1000 };
  } finally {
    await journal.close();
    await home.cleanup();
  }
}

/** journalRow sets the journal's cost per decision beside the proxy's added connect latency (ms, p50) from the same run. */
export function journalRow(cost: JournalCost, proxyAddedMs: number): Row {
  const totalUs = cost.onPathUs + cost.writeUs;
  const share = totalUs / 1000 / proxyAddedMs;
  return {
    benchmark: 'journal cost per connection (one decision recorded), on path + written later',
    xray: `${cost.onPathUs.toFixed(1)} + ${cost.writeUs.toFixed(1)} µs`,
    peer: `proxy's added connect latency p50 ${proxyAddedMs.toFixed(2)} ms`,
    ratio: `${(share * 100).toFixed(1)}% of it`,
    target: '≤ 5% of the added latency',
    met: share <= 0.05,
  };
}

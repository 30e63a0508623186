// Issue 6 benchmark in Chromium: the VM list with 500 VMs (first render, and a
// state update to one VM) against the same 500 rows built with plain DOM calls
// in the same page, measured up to the DOM being in the document, before
// layout and paint; and a VM's timeline of 10,000 entries (benchTimeline).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Method, XrayApi, XrayEvent } from '../src-main/shared/contract';
import type { SnapshotInfo, TimelineEntry, VmSummary } from '../src-main/shared/models';
import { startBrowserServer } from '../src-main/browser/server';
import { median, ms, percentile, type Row } from './lib';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** FixedApi answers list requests with canned data and lets the bench push events. */
class FixedApi implements XrayApi {
  readonly listeners = new Set<(e: XrayEvent) => void>();
  constructor(private readonly answers: Partial<Record<Method, unknown>>) {}
  async call(method: Method): Promise<never> {
    if (method in this.answers) return this.answers[method] as never;
    throw new Error(`"${method}" is not available in this benchmark.`);
  }
  subscribe(listener: (e: XrayEvent) => void) {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
  emit(event: XrayEvent) {
    for (const l of this.listeners) l(event);
  }
}

function vm(name: string, i: number): VmSummary {
  return {
    name, state: 'stopped', base: 'debian-12', arch: 'aarch64', memoryMb: 2048, cpus: 2, sshPort: 2222 + i, sshUser: 'ubuntu',
    ports: [{ host: 8000 + i, guest: 80 }], pid: null, accelerator: null, firewallActive: false, openConnections: 0,
    pendingPrompts: 0, crash: null, diagnosis: null, configError: null,
  };
}

export async function benchRender(repo: string): Promise<Row[]> {
  if (!existsSync(CHROMIUM)) return [{ benchmark: 'VM list render (500 VMs)', xray: 'skipped', peer: 'no /usr/bin/chromium', ratio: '-', target: '< 100 ms', met: false }];
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    return [...(await benchVmList(browser, repo)), ...(await benchTimeline(browser, repo))];
  } finally {
    await browser.close();
  }
}

async function benchVmList(browser: Browser, repo: string): Promise<Row[]> {
  const vms = Array.from({ length: 500 }, (_, i) => vm(`vm-${String(i).padStart(3, '0')}`, i));
  const api = new FixedApi({ 'vm.list': vms, 'base.list': [], 'prompt.list': [] });
  const server = await startBrowserServer({ api, rendererDir: join(repo, 'dist', 'renderer') });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 680 } });
    const xray: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < 7; i++) {
      await page.goto('about:blank');
      await page.goto(server.url);
      await page.locator('tr[data-vm="vm-499"]').waitFor({ state: 'attached' });
      xray.push(await page.evaluate(() => performance.measure('first', 'xray:vms-loaded', 'xray:vm-list-rendered').duration));
      plain.push(
        await page.evaluate((rows) => {
          const start = performance.now();
          const table = document.createElement('table');
          const body = table.createTBody();
          for (const r of rows) {
            const tr = body.insertRow();
            for (const text of [r.name, r.state, r.base, `${r.memoryMb} MB`, String(r.cpus), String(r.sshPort), `${r.ports[0]!.host}:${r.ports[0]!.guest}`]) {
              tr.insertCell().textContent = text;
            }
            const button = document.createElement('button');
            button.textContent = 'Start';
            tr.insertCell().append(button);
          }
          document.body.append(table);
          const elapsed = performance.now() - start;
          table.remove();
          return elapsed;
        }, vms),
      );
    }
    await page.evaluate(() => {
      const w = window as unknown as { changed: Set<string>; changedAt: number };
      w.changed = new Set();
      new MutationObserver((records) => {
        w.changedAt = performance.now();
        for (const r of records) {
          const node = r.target instanceof Element ? r.target : r.target.parentElement;
          w.changed.add(node?.closest('tr[data-vm]')?.getAttribute('data-vm') ?? 'outside a row');
        }
      }).observe(document.querySelector('.vm-table tbody')!, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    const updates: number[] = [];
    let changedRows: string[] = [];
    for (const [i, state] of (['starting', 'booting', 'ready', 'stopping', 'stopped'] as const).entries()) {
      await page.evaluate(() => {
        const w = window as unknown as { changed: Set<string>; sentAt: number };
        w.changed.clear();
        w.sentAt = performance.now();
      });
      api.emit({ type: 'vm.state', vm: 'vm-250', state, previous: i === 0 ? 'stopped' : 'starting' });
      await page.waitForFunction(() => (window as unknown as { changed: Set<string> }).changed.size > 0);
      await page.waitForTimeout(50);
      const result = await page.evaluate(() => {
        const w = window as unknown as { changed: Set<string>; changedAt: number; sentAt: number };
        return { rows: [...w.changed], ms: w.changedAt - w.sentAt };
      });
      updates.push(result.ms);
      changedRows = [...new Set([...changedRows, ...result.rows])];
    }
    const first = median(xray);
    return [
      { benchmark: 'VM list, 500 VMs: first render', xray: ms(first), peer: `plain DOM rows ${ms(median(plain))}`, ratio: `${(first / median(plain)).toFixed(2)}×`, target: '< 100 ms', met: first < 100 },
      { benchmark: 'VM list, 500 VMs: one VM changes state', xray: `${ms(median(updates))} (event → DOM)`, peer: `rows touched: ${changedRows.join(', ')}`, ratio: `${changedRows.length} of 500 rows`, target: 'only the changed row', met: changedRows.length === 1 && changedRows[0] === 'vm-250' },
    ];
  } finally {
    await server.close();
  }
}

/** TIMELINE_ENTRIES is a busy VM's timeline: what the app keeps of one (TIMELINE_LIMIT in the renderer's store). */
const TIMELINE_ENTRIES = 10_000;

/** timelineOf makes a VM's 10,000 entries, a minute apart (network decisions, questions, hook runs), with a snapshot every thousand. */
function timelineOf(): { entries: TimelineEntry[]; snapshots: SnapshotInfo[] } {
  const start = Date.parse('2025-03-01T00:00:00Z');
  const entries: TimelineEntry[] = [];
  const snapshots: SnapshotInfo[] = [];
  for (let i = 0; i < TIMELINE_ENTRIES; i++) {
    const at = new Date(start + i * 60_000).toISOString();
    const destination = { ip: `198.51.100.${i % 250}`, port: 443, name: `host-${i % 700}.example.com`, nameSource: 'sni' as const, service: 'https' };
    if (i % 1000 === 500) snapshots.push({ name: `snap-${i}`, date: at, vmStateSize: 300 * 2 ** 20, hasMemory: i % 2000 === 500, description: `before step ${i}` });
    if (i % 97 === 0) entries.push({ at, vm: 'dev', kind: 'hook', type: 'boot', script: '10-setup.sh', source: 'vm', exitCode: i % 3 === 0 ? 1 : 0, error: null, durationMs: 1200 });
    else if (i % 31 === 0) entries.push({ at, vm: 'dev', kind: 'prompt', event: 'opened', id: `p${i}`, destination, action: null, reason: null, program: 'curl' });
    else entries.push({ at, vm: 'dev', kind: 'network', action: i % 5 === 0 ? 'deny' : 'allow', destination, reason: 'rule *.example.com', rule: '*.example.com' });
  }
  return { entries, snapshots };
}

/**
 * scrollSteps scrolls a box two and a half views at a time, 60 times, so
 * every step shows rows not drawn before, and times each from its scroll
 * event to the next frame's callbacks after a forced layout: what the frame
 * spends on the scroll before it paints. `gaps` counts steps that left the
 * view's top or bottom without a row.
 */
async function scrollSteps(page: Page, selector: string): Promise<{ steps: number[]; gaps: number }> {
  return page.evaluate(async (selector) => {
    const box = document.querySelector<HTMLElement>(selector)!;
    const view = box.clientHeight;
    const steps: number[] = [];
    let gaps = 0;
    for (let i = 1; i <= 60; i++) {
      let start = 0;
      window.addEventListener('scroll', () => (start = performance.now()), { capture: true, once: true });
      box.scrollTop = (i * view * 2.5) % (box.scrollHeight - view);
      let elapsed = 0;
      while (start === 0) elapsed = await new Promise<number>((resolve) => requestAnimationFrame(() => resolve((void box.offsetHeight, performance.now() - start))));
      const r = box.getBoundingClientRect();
      if (![r.top + 2, r.bottom - 3].every((y) => document.elementFromPoint(r.left + 40, y)?.closest('li'))) gaps++;
      steps.push(elapsed);
    }
    return { steps, gaps };
  }, selector);
}

/**
 * benchTimeline opens a VM's Timeline tab over 10,000 entries. First render:
 * a click on the tab (the timeline already fetched, as on every visit after
 * the first) to its rows laid out, against the same 10,000 rows built with
 * plain DOM calls. Scrolling: a step's work in its frame, against the same
 * window kept by hand with plain DOM calls. A live entry: the event sent to
 * its row in the document.
 */
async function benchTimeline(browser: Browser, repo: string): Promise<Row[]> {
  const { entries, snapshots } = timelineOf();
  const dev: VmSummary = { ...vm('dev', 0), state: 'ready' };
  const api = new FixedApi({
    'vm.list': [dev], 'base.list': [], 'prompt.list': [], 'vm.info': { summary: dev, config: {}, diskChain: [], snapshots }, 'snapshot.list': snapshots,
    'vm.timeline': entries, 'firewall.rules': [], 'firewall.log': [], 'hooks.list': [], 'hooks.runs': [], 'vm.console': [], 'plugin.list': [],
  });
  const server = await startBrowserServer({ api, rendererDir: join(repo, 'dist', 'renderer') });
  const page = await browser.newPage({ viewport: { width: 1100, height: 680 } });
  try {
    await page.goto(server.url);
    await page.locator('tr[data-vm="dev"]').getByRole('button', { name: 'dev', exact: true }).click();
    await page.getByRole('tab', { name: 'Timeline' }).click();
    await page.locator('li[data-now]').waitFor();
    const first: number[] = [];
    for (let i = 0; i < 7; i++) {
      await page.getByRole('tab', { name: 'Overview' }).click();
      await page.locator('li[data-now]').waitFor({ state: 'detached' });
      first.push(
        await page.evaluate(async () => {
          const start = performance.now();
          document.getElementById('tab-Timeline')!.click();
          // React renders a click's update in a microtask; a message runs after them all.
          await new Promise((resolve) => {
            const channel = new MessageChannel();
            channel.port1.onmessage = resolve;
            channel.port2.postMessage(null);
          });
          if (!document.querySelector('li[data-now]')) throw new Error('The timeline did not render.');
          return (void document.body.offsetHeight, performance.now() - start);
        }),
      );
    }
    const drawn = await page.locator('.timeline li').count();
    const scroll = await scrollSteps(page, '.timeline');
    const texts = entries.map((e) => [e.at, e.kind, JSON.stringify(e).slice(40, 120)]);
    const plainFirst = await page.evaluate((texts) => {
      const times: number[] = [];
      for (let round = 0; round < 8; round++) {
        document.getElementById('plain-timeline')?.remove();
        const start = performance.now();
        const box = Object.assign(document.createElement('div'), { id: 'plain-timeline' });
        box.style.cssText = 'position: fixed; top: 0; left: 0; width: 800px; height: 300px; overflow-y: auto; background: white; z-index: 100';
        const list = document.createElement('ol');
        for (const row of texts) {
          const li = document.createElement('li');
          li.style.cssText = 'height: 30px; white-space: nowrap; overflow: hidden';
          for (const text of row) li.append(Object.assign(document.createElement('span'), { textContent: `${text} ` }));
          list.append(li);
        }
        box.append(list);
        document.body.append(box);
        times.push((void document.body.offsetHeight, performance.now() - start));
      }
      return times.slice(1);
    }, texts);
    await page.evaluate((texts) => {
      document.getElementById('plain-timeline')!.remove();
      // The same window by hand: on each scroll, the rows in view and 8 either side, rebuilt with DOM calls.
      const box = Object.assign(document.createElement('div'), { id: 'plain-window' });
      box.style.cssText = 'position: fixed; top: 0; left: 0; width: 800px; height: 300px; overflow-y: auto; background: white; z-index: 100';
      const list = document.createElement('ol');
      list.style.cssText = `position: relative; margin: 0; height: ${texts.length * 30}px`;
      const draw = () => {
        const first = Math.max(0, Math.floor(box.scrollTop / 30) - 8);
        const last = Math.min(texts.length, Math.ceil((box.scrollTop + box.clientHeight) / 30) + 8);
        list.replaceChildren(
          ...texts.slice(first, last).map((row, i) => {
            const li = document.createElement('li');
            li.style.cssText = `position: absolute; left: 0; right: 0; top: ${(first + i) * 30}px; height: 30px; white-space: nowrap; overflow: hidden`;
            for (const text of row) li.append(Object.assign(document.createElement('span'), { textContent: `${text} ` }));
            return li;
          }),
        );
      };
      box.addEventListener('scroll', draw);
      box.append(list);
      document.body.append(box);
      draw();
    }, texts);
    const plainScroll = await scrollSteps(page, '#plain-window');
    await page.evaluate(() => {
      document.getElementById('plain-window')!.remove();
      const box = document.querySelector<HTMLElement>('.timeline')!;
      box.scrollTop = box.scrollHeight;
    });
    const live: number[] = [];
    for (let i = 0; i < 5; i++) {
      const name = `live-${i}.example.com`;
      await page.evaluate((name) => {
        const w = window as unknown as { sentAt: number; shownAt: number };
        w.shownAt = 0;
        const observer = new MutationObserver(() => {
          if (!document.querySelector('.timeline')!.textContent!.includes(name)) return;
          w.shownAt = performance.now();
          observer.disconnect();
        });
        observer.observe(document.querySelector('.timeline ol')!, { subtree: true, childList: true, characterData: true });
        w.sentAt = performance.now();
      }, name);
      const destination = { ip: '203.0.113.9', port: 443, name, nameSource: 'sni' as const, service: 'https' };
      api.emit({ type: 'timeline.entry', entry: { at: new Date().toISOString(), vm: 'dev', kind: 'network', action: 'allow', destination, reason: 'rule *.example.com', rule: '*.example.com' } });
      await page.waitForFunction(() => (window as unknown as { shownAt: number }).shownAt > 0);
      live.push(await page.evaluate(() => (window as unknown as { sentAt: number; shownAt: number }).shownAt - (window as unknown as { sentAt: number }).sentAt));
    }
    const render = median(first);
    const step = percentile(scroll.steps, 95);
    const plainStep = percentile(plainScroll.steps, 95);
    return [
      { benchmark: 'Timeline, 10,000 entries: first render (click → rows laid out)', xray: `${ms(render)} (${drawn} rows in the document)`, peer: `plain DOM, all 10,000 rows ${ms(median(plainFirst))}`, ratio: `${(render / median(plainFirst)).toFixed(2)}×`, target: '< 100 ms', met: render < 100 },
      { benchmark: 'Timeline, 10,000 entries: scroll step, p95 of 60 (median)', xray: `${ms(step)} (${ms(median(scroll.steps))}), ${scroll.gaps} gaps`, peer: `plain DOM window ${ms(plainStep)} (${ms(median(plainScroll.steps))}), ${plainScroll.gaps} gaps`, ratio: `${(step / plainStep).toFixed(2)}×`, target: '< 16 ms, no gaps', met: step < 16 && scroll.gaps === 0 },
      { benchmark: 'Timeline, 10,000 entries: a live entry arrives', xray: `${ms(median(live))} (event → row)`, peer: `VM list's event → DOM (row above)`, ratio: '-', target: '< 50 ms', met: median(live) < 50 },
    ];
  } finally {
    await page.close();
    await server.close();
  }
}

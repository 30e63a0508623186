// Issue 6 benchmark in Chromium: the VM list with 500 VMs (first render, and a
// state update to one VM) against the same 500 rows built with plain DOM calls
// in the same page. Both are measured up to the DOM being in the document,
// before layout and paint.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Method, XrayApi, XrayEvent } from '../src-main/shared/contract';
import type { VmSummary } from '../src-main/shared/models';
import { startBrowserServer } from '../src-main/browser/server';
import { median, ms, type Row } from './lib';

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
    pendingPrompts: 0, crash: null, configError: null,
  };
}

export async function benchRender(repo: string): Promise<Row[]> {
  if (!existsSync(CHROMIUM)) return [{ benchmark: 'VM list render (500 VMs)', xray: 'skipped', peer: 'no /usr/bin/chromium', ratio: '-', target: '< 100 ms', met: false }];
  const vms = Array.from({ length: 500 }, (_, i) => vm(`vm-${String(i).padStart(3, '0')}`, i));
  const api = new FixedApi({ 'vm.list': vms, 'base.list': [], 'prompt.list': [] });
  const server = await startBrowserServer({ api, rendererDir: join(repo, 'dist', 'renderer') });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
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
    await browser.close();
    await server.close();
  }
}

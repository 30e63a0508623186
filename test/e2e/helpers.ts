// Test helper for the browser-mode end-to-end tests: builds the renderer into a
// temp dir (dist/ belongs to the full build), launches Debian's Chromium, and
// offers an XrayApi with made-up answers to serve it.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Method, Params, Results, XrayApi, XrayEvent } from '../../src-main/shared/contract';
import { waitFor } from '../helpers/wait';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO, 'docs', 'screenshots');
export const hasChromium = existsSync(CHROMIUM);

/** buildRenderer bundles src-renderer the way scripts/build.mjs does, into a temp dir. */
export async function buildRenderer(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'xray-renderer-'));
  await build({
    absWorkingDir: REPO,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['chrome120'],
    entryPoints: { app: 'src-renderer/main.tsx' },
    outdir: dir,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const { copyFile } = await import('node:fs/promises');
  await copyFile(join(REPO, 'src-renderer', 'index.html'), join(dir, 'index.html'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** launchChromium starts Debian's Chromium headless, with the flags that keep it off the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** BrowserSuite is what the tests of one file share: the built renderer, one browser, and what a test opened. */
export interface BrowserSuite {
  readonly renderer: { dir: string; cleanup: () => Promise<void> };
  readonly browser: Browser;
  /** closeAfterTest registers something a test opened, closed once the test ends (the last opened first). */
  closeAfterTest(close: () => Promise<void>): void;
}

/** browserSuite builds the renderer and launches Chromium once for the calling test file, and cleans up after each test and at the end. */
export function browserSuite(): BrowserSuite {
  let renderer: BrowserSuite['renderer'] | undefined;
  let browser: Browser | undefined;
  const closers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    renderer = await buildRenderer();
    browser = await launchChromium();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  afterAll(async () => {
    await browser?.close();
    await renderer?.cleanup();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the browser suite is not set up yet');
    return value;
  };
  return {
    get renderer() {
      return ready(renderer);
    },
    get browser() {
      return ready(browser);
    },
    closeAfterTest: (close) => void closers.push(close),
  };
}

/**
 * TableApi answers each method from a table of made-up results, records every
 * call, and emits events on demand. An answer that is a function is called
 * with the params; the promise it returns keeps the call waiting.
 */
export class TableApi implements XrayApi {
  readonly listeners = new Set<(e: XrayEvent) => void>();
  readonly calls: { method: Method; params: unknown }[] = [];
  constructor(private readonly answers: Partial<Record<Method, unknown>>) {}

  async call<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
    this.calls.push({ method, params });
    if (!(method in this.answers)) throw new Error(`"${method}" is not available in this version of Xray.`);
    const answer = this.answers[method];
    return (typeof answer === 'function' ? await answer(params) : answer) as Results[M];
  }

  callsOf(method: Method): unknown[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.params);
  }

  subscribe(listener: (e: XrayEvent) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** subscribed resolves once a page's event stream is attached, so what is emitted next reaches it. */
  async subscribed(): Promise<void> {
    await waitFor('a page to subscribe', () => this.listeners.size > 0);
  }

  emit(event: XrayEvent) {
    for (const l of this.listeners) l(event);
  }
}

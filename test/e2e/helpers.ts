// Test helper for the browser-mode end-to-end tests: builds the renderer into a
// temp dir (dist/ belongs to the full build) and launches Debian's Chromium.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';

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

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

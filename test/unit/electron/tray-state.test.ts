import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trayIconFile, trayIconState, trayTooltip, type TrayIconState } from '../../../src-main/electron/tray-state';
import { summary } from './fixtures';

const STATES: TrayIconState[] = ['idle', 'running', 'prompt'];

describe('trayIconState', () => {
  it.each([
    { vms: [], prompts: 0, expected: 'idle' },
    { vms: [summary('a'), summary('b', { state: 'crashed' })], prompts: 0, expected: 'idle' },
    { vms: [summary('a', { state: 'booting' })], prompts: 0, expected: 'running' },
    { vms: [summary('a', { state: 'ready' })], prompts: 0, expected: 'running' },
    { vms: [summary('a', { state: 'stopping' })], prompts: 0, expected: 'running' },
    { vms: [summary('a', { state: 'ready' })], prompts: 1, expected: 'prompt' },
    { vms: [], prompts: 3, expected: 'prompt' },
  ] as const)('$expected for $prompts prompts and states $vms.length VMs', ({ vms, prompts, expected }) => {
    expect(trayIconState(vms, prompts)).toBe(expected);
  });
});

describe('trayIconFile', () => {
  it('uses template images on macOS, each with a @2x beside it in assets/', () => {
    for (const state of STATES) {
      const file = trayIconFile(state, 'darwin');
      expect(file).toMatch(/Template\.png$/);
      expect(existsSync(join('assets', file))).toBe(true);
      expect(existsSync(join('assets', file.replace('.png', '@2x.png')))).toBe(true);
    }
  });

  it('gives every state its own icon on Linux too', () => {
    const files = STATES.map((state) => trayIconFile(state, 'linux'));
    expect(new Set(files).size).toBe(3);
    for (const file of files) expect(existsSync(join('assets', file))).toBe(true);
  });
});

describe('trayTooltip', () => {
  it('counts running VMs and waiting prompts', () => {
    expect(trayTooltip([], 0)).toBe('Xray: No VM running');
    expect(trayTooltip([summary('a', { state: 'ready' }), summary('b', { state: 'ready' })], 1)).toBe('Xray: 2 VMs running, 1 connection prompt waiting');
  });
});

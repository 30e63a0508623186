// Test helper for the end-to-end tests of the app over a real supervisor
// running real QEMU: a temp home with firmware-only VMs, the supervisor, a
// control client, the browser-mode server and one Chromium page, all set up
// once for the calling test file and taken down after it.
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startBrowserServer, type BrowserServer } from '../../src-main/browser/server';
import { ControlClient } from '../../src-main/core/control/client';
import type { SshSession } from '../../src-main/core/ssh';
import { hostSupervisor, type SupervisorHost } from '../../src-main/core/supervisor/host';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';
import { buildRenderer, launchChromium, SCREENSHOTS } from './helpers';

export interface SupervisedAppOptions {
  /** prefix names the temp home. */
  readonly prefix: string;
  /** config is config.toml's text, if any. */
  readonly config?: string;
  /** vms are firmware-only VMs made before the supervisor starts. */
  readonly vms?: readonly string[];
  /**
   * login is how the supervisor reaches a guest over SSH. The default is a
   * fake session, since a firmware-only guest has no SSH: it makes the guest
   * ready once QEMU runs, answers the guest checks (listening ports, a
   * prompt's program) with nothing, and refuses poweroff, as the firmware
   * ignores the power button too. With it, the built-in hooks that set a guest
   * up do not run: they would fail against a guest with no shell.
   */
  readonly login?: () => Promise<SshSession>;
  /** page is the Chromium page's options (viewport, colour scheme, downloads). */
  readonly page?: BrowserContextOptions;
}

export interface SupervisedApp {
  readonly home: TestHome;
  readonly host: SupervisorHost;
  readonly api: ControlClient;
  readonly server: BrowserServer;
  readonly browser: Browser;
  readonly page: Page;
}

const fakeLogin = async (): Promise<SshSession> => {
  const exec = async (command: string) => {
    if (/\bpoweroff\b/.test(command)) throw new Error('the fake guest refuses poweroff');
    return { code: 0, signal: null };
  };
  return { exec, close: () => undefined } as unknown as SshSession;
};

/** supervisedAppSuite sets the app up for the calling test file (see the file's header); its fields are there once its beforeAll ran. */
export function supervisedAppSuite(options: SupervisedAppOptions): SupervisedApp {
  const parts: { -readonly [K in keyof SupervisedApp]?: SupervisedApp[K] } = {};
  let renderer: { cleanup: () => Promise<void> } | undefined;
  beforeAll(async () => {
    const home = (parts.home = await makeTestHome(options.prefix));
    if (options.config !== undefined) await writeFile(home.paths.configFile, options.config);
    for (const vm of options.vms ?? []) await addFirmwareOnlyVm(home.paths, vm);
    parts.host = await hostSupervisor(home.paths, options.login ? { login: options.login } : { login: fakeLogin, guestHooks: false });
    parts.api = await ControlClient.connect(home.paths.controlSocket);
    const built = (renderer = await buildRenderer());
    parts.server = await startBrowserServer({ api: parts.api, rendererDir: built.dir });
    parts.browser = await launchChromium();
    parts.page = await parts.browser.newPage(options.page ?? {});
    await mkdir(SCREENSHOTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await parts.browser?.close();
    await parts.server?.close();
    parts.api?.close();
    // Tests are over: the VMs are killed rather than asked, whatever stop_timeout a test left.
    await parts.host?.supervisor.stopAll(true);
    await parts.host?.close();
    if (parts.home) {
      const left = spawnSync('pgrep', ['-f', `qemu-system.*${parts.home.root}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      for (const pid of left) process.kill(Number(pid), 'SIGKILL');
    }
    await renderer?.cleanup();
    await parts.home?.cleanup();
  });
  const ready = <K extends keyof SupervisedApp>(key: K): SupervisedApp[K] => {
    const value = parts[key];
    if (value === undefined) throw new Error('the app is not set up yet');
    return value as SupervisedApp[K];
  };
  return {
    get home() {
      return ready('home');
    },
    get host() {
      return ready('host');
    },
    get api() {
      return ready('api');
    },
    get server() {
      return ready('server');
    },
    get browser() {
      return ready('browser');
    },
    get page() {
      return ready('page');
    },
  };
}

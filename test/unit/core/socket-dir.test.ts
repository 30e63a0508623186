// Sockets whose natural path is too long move to a short per-user directory;
// nobody else may own or share it.
import { chown, lstat, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Socks5Server } from '../../../src-main/core/firewall/socks5';
import { HomePaths, UNIX_SOCKET_PATH_MAX, shortRuntimeBase } from '../../../src-main/core/paths';
import { prepareSocketDir } from '../../../src-main/core/socket-dir';

const isRoot = process.getuid?.() === 0;
let runtime: string;
let env: NodeJS.ProcessEnv;
let saved: string | undefined;

beforeEach(async () => {
  runtime = await mkdtemp(join(tmpdir(), 'xray-rt-'));
  env = { XDG_RUNTIME_DIR: runtime };
  saved = process.env.XDG_RUNTIME_DIR;
  process.env.XDG_RUNTIME_DIR = runtime;
});

afterEach(async () => {
  if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
  else process.env.XDG_RUNTIME_DIR = saved;
  await rm(runtime, { recursive: true, force: true });
});

/** longVm gives a VM whose socket paths are too long to stay in its directory. */
function longVm() {
  const paths = new HomePaths(join(runtime, 'home', 'a'.repeat(60)));
  const vm = paths.vm('v'.repeat(40));
  expect(Buffer.byteLength(join(vm.dir, 'proxy.sock'))).toBeGreaterThan(UNIX_SOCKET_PATH_MAX);
  return vm;
}

describe('prepareSocketDir', () => {
  it("moves a long VM's sockets under the session's runtime directory and makes each level private", async () => {
    const vm = longVm();
    expect(vm.proxySocket.startsWith(`${shortRuntimeBase(env)}/`)).toBe(true);
    await prepareSocketDir(vm.proxySocket, env);
    for (const dir of [shortRuntimeBase(env), dirname(vm.proxySocket)]) {
      const info = await lstat(dir);
      expect(info.isDirectory()).toBe(true);
      expect(info.mode & 0o777).toBe(0o700);
    }
  });

  it('lets the VM proxy listen there', async () => {
    const vm = longVm();
    const server = new Socks5Server({ vm: 'v', socketPath: vm.proxySocket, decide: async () => ({ action: 'deny', reason: 'test' }) });
    await server.listen();
    expect((await lstat(vm.proxySocket)).isSocket()).toBe(true);
    await server.close();
  });

  it.runIf(isRoot)('refuses a directory another user made first, and puts nothing in it', async () => {
    const base = shortRuntimeBase(env);
    await mkdir(base, { mode: 0o700 });
    await chown(base, 12345, 12345);
    const vm = longVm();
    await expect(prepareSocketDir(vm.proxySocket, env)).rejects.toThrow(`${base} belongs to another user (uid 12345), so Xray will not put its sockets there`);
    await expect(lstat(dirname(vm.proxySocket))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a symbolic link in place of the directory', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'xray-elsewhere-'));
    await symlink(elsewhere, shortRuntimeBase(env));
    await expect(prepareSocketDir(longVm().proxySocket, env)).rejects.toThrow(/is not a plain directory/);
    await rm(elsewhere, { recursive: true, force: true });
  });

  it('closes a directory of its own that others could enter', async () => {
    const base = shortRuntimeBase(env);
    await mkdir(base, { mode: 0o777 });
    await prepareSocketDir(longVm().proxySocket, env);
    expect((await lstat(base)).mode & 0o777).toBe(0o700);
  });

  it('leaves sockets that fit inside XRAY_HOME alone', async () => {
    const paths = new HomePaths(join(runtime, 'h'));
    await prepareSocketDir(paths.vm('web').proxySocket, env);
    await expect(lstat(shortRuntimeBase(env))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

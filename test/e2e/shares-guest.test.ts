// End to end on a real guest: folders shared with `xray share add` are
// mounted by the built-in boot hook; the VM's user reads and writes them with
// no sudo and what it writes is the host user's; symbolic links (the host's
// and the guest's), `..`, device nodes and setuid bits do not reach past the
// share; a read-only share refuses writes, even from root.
//
// Xray runs here as an ordinary user, as people run it: when the tests run as
// root, the daemon and the CLI run as uid 1000 (setpriv), a uid the guest
// gives its first user too. As root the guest's user could not write the
// host user's files (see docs/ARCHITECTURE.md, "Shared folders").
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chown, copyFile, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { XrayEvent } from '../../src-main/shared/contract';
import { ControlClient } from '../../src-main/core/control/client';
import { isSocketAlive } from '../../src-main/core/control/server';
import { SHARES_HOOK_NAME } from '../../src-main/core/guest/shares';
import { HomePaths } from '../../src-main/core/paths';
import { ensureTestGuest } from '../guest/guest';
import { XRAY_BIN } from '../helpers/cli';
import { waitFor } from '../helpers/wait';

const skip = process.env.XRAY_SKIP_GUEST === '1';
if (skip) console.warn('e2e/shares-guest: skipped because XRAY_SKIP_GUEST=1; no guest is booted.');

const VM = 'shares';
const BOOT_MS = 5 * 60_000;
const BUILD_TIMEOUT_MS = 40 * 60_000;
const asRoot = process.getuid?.() === 0;
/** UID is the host user Xray runs as. */
const UID = asRoot ? 1000 : (process.getuid?.() ?? 1000);
const GID = asRoot ? 1000 : (process.getgid?.() ?? 1000);
const SECRET = `outside-the-share-${process.pid}-${Date.now()}`;

let dir: string;
let paths: HomePaths;
let project: string;
let docs: string;
let secretFile: string;
let env: NodeJS.ProcessEnv;
let daemon: ChildProcess | null = null;
let api: ControlClient | null = null;
let booted = false;
const events: XrayEvent[] = [];

/** asUser is the command line that runs `argv` as the host user. */
function asUser(argv: readonly string[]): [string, string[]] {
  return asRoot ? ['setpriv', [`--reuid=${UID}`, `--regid=${GID}`, '--clear-groups', '--', ...argv]] : [argv[0]!, argv.slice(1)];
}

function run(file: string, args: readonly string[], timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, [...args], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** xray runs the built CLI as the host user. */
async function xray(...args: string[]): Promise<string> {
  const [file, argv] = asUser([process.execPath, XRAY_BIN, ...args]);
  const r = await run(file, argv);
  if (r.code !== 0) throw new Error(`xray ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** guest runs a shell command in the guest as the VM's user, over OpenSSH with the VM's key and pinned host key. */
async function guest(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const vm = paths.vm(VM);
  const config = await readFile(vm.config, 'utf8');
  const port = /ssh_port = (\d+)/.exec(config)![1]!;
  return run('ssh', ['-i', vm.sshKey, '-p', port, '-o', `UserKnownHostsFile=${vm.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', 'xray@127.0.0.1', command]);
}

/** owned hands a path the test made to the host user, as if the user had made it. */
async function owned(path: string): Promise<void> {
  if (asRoot) await chown(path, UID, GID);
}

async function diagnostics(): Promise<string> {
  const vm = paths.vm(VM);
  const tail = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').slice(-30).join('\n');
  return `hook log:\n${await tail(vm.hookLog)}\nconsole:\n${await tail(vm.consoleLog)}\ndaemon:\n${await tail(paths.daemonLog)}`;
}

describe.skipIf(skip)('shared folders in a real guest', () => {
  beforeAll(async () => {
    const { image } = await ensureTestGuest({ log: (line) => process.stderr.write(`[guest build] ${line}\n`) });
    dir = await mkdtemp(join(tmpdir(), 'xray-e2e-shares-'));
    paths = new HomePaths(join(dir, 'xray'));
    project = join(dir, 'project');
    docs = join(dir, 'docs');
    secretFile = join(dir, 'outside', 'secret.txt');
    for (const d of [dir, join(dir, 'home'), paths.root, project, docs, join(dir, 'outside')]) {
      await mkdir(d, { recursive: true });
      await owned(d);
    }
    await writeFile(secretFile, `${SECRET}\n`);
    await writeFile(join(docs, 'readme.txt'), 'read me\n');
    // Links a guest might try: out of the share by a relative path, by an absolute one, to the parent and to /.
    await symlink('../outside/secret.txt', join(project, 'escape-relative'));
    await symlink(secretFile, join(project, 'escape-absolute'));
    await symlink('..', join(project, 'up'));
    await symlink('/', join(project, 'root'));
    for (const f of [secretFile, join(docs, 'readme.txt')]) await owned(f);
    // The cached image is root's; the user imports a copy it can read.
    await copyFile(image, join(dir, 'guest.qcow2'));
    await owned(join(dir, 'guest.qcow2'));
    env = { PATH: process.env.PATH, HOME: join(dir, 'home'), XRAY_HOME: paths.root, NO_COLOR: '1' };

    await xray('base', 'import', join(dir, 'guest.qcow2'), '--name', 'debian', '--arch', 'x86_64', '--cloud-init');
    await xray('create', VM, '--base', 'debian', '--memory', '1024', '--cpus', '2', '--ssh-user', 'xray');
    expect(await xray('share', 'add', VM, project)).toContain(`shares ${project} at ${project} (read-write)`);
    expect(await xray('share', 'add', VM, docs, '/mnt/docs', '--read-only')).toContain(`shares ${docs} at /mnt/docs (read-only)`);

    const [file, argv] = asUser([process.execPath, XRAY_BIN, 'daemon']);
    daemon = spawn(file, argv, { env, stdio: 'ignore' });
    await waitFor('the daemon', () => isSocketAlive(paths.controlSocket, 500), 30_000);
    api = await ControlClient.connect(paths.controlSocket);
    api.subscribe((e) => events.push(e));
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    if (api) await api.call('vm.stop', { name: VM, force: true }).catch(() => undefined);
    api?.close();
    daemon?.kill('SIGTERM');
    if (daemon) await waitFor('the daemon to exit', () => daemon!.exitCode !== null || daemon!.signalCode !== null, 30_000).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  beforeEach(({ task }) => {
    if (!task.name.startsWith('boots') && !booted) throw new Error('the VM never came up with its shares mounted; see the first step');
  });

  it('boots and mounts both shares with the built-in boot hook, the VM user having the host user\'s uid', async () => {
    await api!.call('vm.start', { name: VM });
    const finished = await waitFor(
      'the shares hook to finish',
      () => events.flatMap((e) => (e.type === 'hook.finished' && e.run.vm === VM && e.run.script === SHARES_HOOK_NAME ? [e.run] : []))[0],
      BOOT_MS,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await diagnostics()}`);
    });
    if (finished.error !== null) throw new Error(`the shares hook failed: ${finished.error}\n${await diagnostics()}`);
    booted = true;
    const mounts = await guest('findmnt -rn -t 9p -o TARGET,OPTIONS');
    expect(mounts.stdout).toContain(`${project} rw,`);
    expect(mounts.stdout).toMatch(/\/mnt\/docs ro,/);
    expect((await guest('id -u')).stdout.trim()).toBe(String(UID));
  }, BOOT_MS + 60_000);

  it('shows the guest a file written on the host, and the host what the guest writes, the host user owning it', async () => {
    await writeFile(join(project, 'from-host.txt'), 'written on the host\n');
    await owned(join(project, 'from-host.txt'));
    const read = await guest(`cat ${project}/from-host.txt && echo 'and edited in the guest' >>${project}/from-host.txt && mkdir ${project}/made-in-guest && echo hello >${project}/made-in-guest/note.txt`);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toBe('written on the host\n');
    expect(await readFile(join(project, 'from-host.txt'), 'utf8')).toBe('written on the host\nand edited in the guest\n');
    expect(await readFile(join(project, 'made-in-guest', 'note.txt'), 'utf8')).toBe('hello\n');
    for (const made of ['made-in-guest', 'made-in-guest/note.txt']) {
      const info = await stat(join(project, made));
      expect([info.uid, info.gid], made).toEqual([UID, GID]);
    }
    expect((await guest(`stat -c '%u %U' ${project}/made-in-guest/note.txt`)).stdout.trim()).toBe(`${UID} xray`);
  });

  it('keeps host links, `..` and the guest\'s own links inside the share, even for root in the guest', async () => {
    const attempts = [
      `cat ${project}/escape-relative`,
      `cat ${project}/escape-absolute`,
      `cat ${project}/up/outside/secret.txt`,
      `cat ${project}/root${secretFile}`,
      `cat ${project}/../outside/secret.txt`,
      `ls -la ${project}/up/ ${project}/root/`,
      `cd ${project} && cat ../../../../../..${secretFile}`,
      `ln -s ../outside/secret.txt ${project}/guest-link && cat ${project}/guest-link`,
      `echo overwritten >${project}/escape-relative; echo overwritten >${project}/escape-absolute; echo overwritten >${project}/guest-link`,
    ];
    for (const attempt of attempts) {
      const r = await guest(`sudo sh -c '${attempt}'`);
      expect(`${r.stdout}${r.stderr}`, attempt).not.toContain(SECRET);
    }
    expect(await readFile(secretFile, 'utf8')).toBe(`${SECRET}\n`);
    // What the guest made as a link is an ordinary file on the host, which no host program follows.
    const made = await lstat(join(project, 'guest-link'));
    expect(made.isSymbolicLink()).toBe(false);
    expect(made.isFile()).toBe(true);
    expect((await guest(`readlink ${project}/guest-link`)).stdout.trim()).toBe('../outside/secret.txt');
  });

  it('turns device nodes and setuid bits made in the guest into plain files on the host', async () => {
    const r = await guest(`sudo sh -c 'mknod ${project}/disk b 8 0 && cp /bin/sh ${project}/sh && chmod 4755 ${project}/sh && ls -l ${project}/disk ${project}/sh'`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^b.* .*\/disk$/m);
    expect(r.stdout).toMatch(/^-rwsr-xr-x .*\/sh$/m);
    const disk = await lstat(join(project, 'disk'));
    expect([disk.isFile(), disk.size]).toEqual([true, 0]);
    expect((await stat(join(project, 'sh'))).mode & 0o7000).toBe(0);
  });

  it('refuses every write to a read-only share, from the user and from root, and still reads it', async () => {
    expect((await guest('cat /mnt/docs/readme.txt')).stdout).toBe('read me\n');
    for (const write of ['touch /mnt/docs/new', 'echo x >>/mnt/docs/readme.txt', 'sudo touch /mnt/docs/new', 'sudo rm /mnt/docs/readme.txt']) {
      const r = await guest(write);
      expect(r.code, write).not.toBe(0);
      expect(r.stderr, write).toMatch(/Read-only file system/);
    }
    // Root may mount the share writable in the guest; QEMU still refuses the write.
    const remounted = await guest('sudo mount -o remount,rw /mnt/docs && sudo touch /mnt/docs/new');
    expect(remounted.code).not.toBe(0);
    expect(await readFile(join(docs, 'readme.txt'), 'utf8')).toBe('read me\n');
    await expect(stat(join(docs, 'new'))).rejects.toThrow(/ENOENT/);
  });

  it('waits for the next start for a share added while the VM runs, and says so', async () => {
    const later = join(dir, 'later');
    await mkdir(later);
    await owned(later);
    expect(await xray('share', 'add', VM, later)).toContain(`VM "${VM}" is running, so it is not mounted until you stop and start it.`);
    const rerun = await api!.call('hooks.run', { vm: VM, type: 'boot' });
    expect(rerun.find((r) => r.script === SHARES_HOOK_NAME)?.error).toBeNull();
    expect((await guest(`findmnt -rn -t 9p -o TARGET`)).stdout).not.toContain(later);
    const log = await readFile(paths.vm(VM).hookLog, 'utf8');
    expect(log).toContain(`not mounted yet: ${later} (added or changed since the VM started; it is mounted from the next start)`);
  });

  it('keeps a share removed while the VM runs until the next start, which mounts the added one and drops the removed one', async () => {
    expect(await xray('share', 'remove', VM, '/mnt/docs')).toContain(`VM "${VM}" is running, so it stays mounted until you stop and start it.`);
    expect((await guest('cat /mnt/docs/readme.txt')).stdout).toBe('read me\n');
    await api!.call('vm.stop', { name: VM });
    const seen = events.length;
    await api!.call('vm.start', { name: VM });
    const finished = await waitFor(
      'the shares hook after the restart',
      () => events.slice(seen).flatMap((e) => (e.type === 'hook.finished' && e.run.vm === VM && e.run.script === SHARES_HOOK_NAME ? [e.run] : []))[0],
      BOOT_MS,
    );
    expect(finished.error).toBeNull();
    const mounts = (await guest('findmnt -rn -t 9p -o TARGET')).stdout.split('\n').filter((l) => l !== '');
    expect(mounts.sort()).toEqual([join(dir, 'later'), project].sort());
    expect((await guest(`echo after-restart >${join(dir, 'later')}/note.txt`)).code).toBe(0);
    expect(await readFile(join(dir, 'later', 'note.txt'), 'utf8')).toBe('after-restart\n');
  }, BOOT_MS + 120_000);
});

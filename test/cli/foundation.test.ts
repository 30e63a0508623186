// The `xray` CLI end to end on real files and the real qemu-img: what issue 2 promises a user.
import { cpus } from 'node:os';
import { lstat, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { qemuImg, tempDir, xray } from '../helpers/cli';

let home: string;
let work: string;
let cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  const h = await tempDir('xray-cli-home-');
  const w = await tempDir('xray-cli-work-');
  home = h.path;
  work = w.path;
  cleanups = [h.cleanup, w.cleanup];
});

afterEach(async () => {
  for (const c of cleanups) await c();
});

async function makeQcow2(name: string, size = '1G'): Promise<string> {
  const path = join(work, name);
  qemuImg(['create', '-q', '-f', 'qcow2', path, size]);
  return path;
}

async function importBase(name = 'deb'): Promise<void> {
  const src = await makeQcow2(`${name}.qcow2`);
  const r = await xray(home, ['base', 'import', src, '--arch', 'x86_64']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

async function listing(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** expectRefused asserts one clear sentence on stderr, exit 1, and no change under XRAY_HOME. */
async function expectRefused(args: string[], pattern: RegExp): Promise<void> {
  const before = JSON.stringify([await listing(join(home, 'vms')), await listing(join(home, 'bases'))]);
  const r = await xray(home, args);
  expect(r.code, r.stdout).toBe(1);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  const after = JSON.stringify([await listing(join(home, 'vms')), await listing(join(home, 'bases'))]);
  expect(after).toBe(before);
}

describe('base images', () => {
  it('imports a qcow2 by copy, lists it with its arch and size, and refuses a second import under the same name', async () => {
    await importBase('deb');
    const copied = await stat(join(home, 'bases', 'deb.qcow2'));
    expect(copied.mode & 0o777).toBe(0o600);
    const list = JSON.parse((await xray(home, ['base', 'list', '--json'])).stdout);
    expect(list).toEqual([expect.objectContaining({ name: 'deb', arch: 'x86_64', virtualSize: 1024 ** 3, linked: false, usedBy: [] })]);
    const again = await makeQcow2('again.qcow2');
    await expectRefused(['base', 'import', again, '--name', 'deb'], /already exists/);
  });

  it('links instead of copying with --link', async () => {
    const src = await makeQcow2('linked.qcow2');
    expect((await xray(home, ['base', 'import', src, '--link'])).code).toBe(0);
    expect((await lstat(join(home, 'bases', 'linked.qcow2'))).isSymbolicLink()).toBe(true);
  });

  it('refuses a raw file named .qcow2 and offers --convert, which then works', async () => {
    const raw = join(work, 'fake.qcow2');
    const disk = Buffer.alloc(1024 * 1024);
    disk.writeUInt16BE(0x55aa, 510); // a boot sector's signature: it begins like a disk
    await writeFile(raw, disk);
    await expectRefused(['base', 'import', raw], /raw.*--convert/);
    const r = await xray(home, ['base', 'import', raw, '--convert']);
    expect(r.code, r.stderr).toBe(0);
    expect(qemuImg(['info', '--output=json', join(home, 'bases', 'fake.qcow2')])).toContain('"format": "qcow2"');
  });

  it('refuses a qcow2 whose backing file points at a host file', async () => {
    const evil = join(work, 'evil.qcow2');
    qemuImg(['create', '-q', '-f', 'qcow2', '-b', '/etc/hostname', '-F', 'raw', evil, '1M']);
    await expectRefused(['base', 'import', evil], /backing file/);
  });

  it('refuses a missing file and a bad name', async () => {
    await expectRefused(['base', 'import', join(work, 'nope.qcow2')], /does not exist/);
    const src = await makeQcow2('ok.qcow2');
    await expectRefused(['base', 'import', src, '--name', '../up'], /name/);
  });

  it('refuses to remove a base while a VM uses it, and removes it after, with the disk kept for its next VM', async () => {
    await importBase('deb');
    expect((await xray(home, ['create', 'web', '--base', 'deb', '--memory', '256', '--cpus', '1'])).code).toBe(0);
    expect(await listing(join(home, 'cache', 'overlays', 'deb'))).toHaveLength(1);
    await expectRefused(['base', 'remove', 'deb', '--force'], /used by VM "web"/);
    expect((await xray(home, ['remove', 'web', '--force'])).code).toBe(0);
    expect((await xray(home, ['base', 'remove', 'deb', '--force'])).code).toBe(0);
    expect(await listing(join(home, 'bases'))).toEqual([]);
    expect(await listing(join(home, 'cache', 'overlays'))).toEqual([]);
  });
});

describe('cloud-init', () => {
  it('is on unless the base or the VM opts out, and an opt-out is written as cloud_init = false', async () => {
    await importBase('plain');
    const optedOut = await makeQcow2('bare.qcow2');
    expect((await xray(home, ['base', 'import', optedOut, '--arch', 'x86_64', '--no-cloud-init'])).code).toBe(0);
    const bases = JSON.parse((await xray(home, ['base', 'list', '--json'])).stdout) as { name: string; cloudInit: boolean }[];
    expect(bases.map((b) => [b.name, b.cloudInit])).toEqual([['bare', false], ['plain', true]]);
    expect(await readFile(join(home, 'bases', 'plain.toml'), 'utf8')).not.toContain('cloud_init');
    expect(await readFile(join(home, 'bases', 'bare.toml'), 'utf8')).toMatch(/^cloud_init = false$/m);

    const create = (name: string, base: string, ...flags: string[]) => xray(home, ['create', name, '--base', base, '--memory', '256', '--cpus', '1', ...flags]);
    const vmToml = (name: string) => readFile(join(home, 'vms', name, 'vm.toml'), 'utf8');
    expect((await create('seeded', 'plain')).code).toBe(0);
    expect(await vmToml('seeded')).not.toContain('cloud_init');
    expect((await create('own-key', 'plain', '--no-cloud-init')).code).toBe(0);
    expect(await vmToml('own-key')).toMatch(/^cloud_init = false$/m);
    expect((await create('follows-base', 'bare')).code).toBe(0);
    expect(await vmToml('follows-base')).toMatch(/^cloud_init = false$/m);
    expect((await create('overrides-base', 'bare', '--cloud-init')).code).toBe(0);
    expect(await vmToml('overrides-base')).not.toContain('cloud_init');
  });
});

describe('VM definitions', () => {
  it('creates a VM as an overlay with a relative backing path, its own UEFI vars, and SSH from 2222 up', async () => {
    await importBase('deb');
    const a = await xray(home, ['create', 'a', '--base', 'deb', '--memory', '256', '--cpus', '1', '--port', '8080:80', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const vmA = JSON.parse(a.stdout);
    const b = JSON.parse((await xray(home, ['create', 'b', '--base', 'deb', '--memory', '256', '--cpus', '1', '--json'])).stdout);
    expect(vmA.sshPort).toBeGreaterThanOrEqual(2222);
    expect(b.sshPort).toBeGreaterThanOrEqual(2222);
    expect(b.sshPort).not.toBe(vmA.sshPort);
    const info = JSON.parse(qemuImg(['info', '--output=json', '-U', join(home, 'vms', 'a', 'disk.qcow2')]));
    expect(info['backing-filename']).toBe('../../bases/deb.qcow2');
    expect(info['virtual-size']).toBe(1024 ** 3);
    const vars = JSON.parse(qemuImg(['info', '--output=json', join(home, 'vms', 'a', 'efivars.qcow2')]));
    expect(vars.format).toBe('qcow2');
    const toml = await readFile(join(home, 'vms', 'a', 'vm.toml'), 'utf8');
    expect(toml).toMatch(/ports = \[\s*"8080:80"\s*\]/);
    expect((await stat(join(home, 'vms', 'a', 'vm.toml'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(home, 'vms', 'a'))).mode & 0o777).toBe(0o700);
  });

  it('fits the defaults to the host: at most its CPUs and half its memory, up to 4 CPUs and 4096 MB, user ubuntu', async () => {
    await importBase('deb');
    const r = await xray(home, ['create', 'fitted', '--base', 'deb', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const os = await import('node:os');
    const halfMemory = Math.floor(os.totalmem() / 2 ** 20 / 2 / 256) * 256;
    expect(JSON.parse(r.stdout)).toMatchObject({ memoryMb: Math.min(4096, halfMemory), cpus: Math.min(4, os.cpus().length), sshUser: 'ubuntu' });
  });

  it('refuses bad names, taken names, bad ports and oversized resources without writing anything', async () => {
    await importBase('deb');
    for (const bad of ['a/b', '..', '.x', 'a b', '', 'x'.repeat(64)]) {
      await expectRefused(['create', bad, '--base', 'deb', '--memory', '256', '--cpus', '1'], /name/);
    }
    await expectRefused(['create', '-x', '--base', 'deb'], /unknown option '-x'/);
    expect((await xray(home, ['create', 'one', '--base', 'deb', '--memory', '256', '--cpus', '1', '--port', '9000:80'])).code).toBe(0);
    await expectRefused(['create', 'one', '--base', 'deb', '--memory', '256', '--cpus', '1'], /already exists/);
    for (const port of ['80:8o', '8080', '0:80', '70000:80', '8080:80:1', ':80']) {
      await expectRefused(['create', 'two', '--base', 'deb', '--memory', '256', '--cpus', '1', '--port', port], /port mapping/);
    }
    await expectRefused(['create', 'two', '--base', 'deb', '--memory', '256', '--cpus', '1', '--port', '9100:80', '--port', '9100:81'], /mapped twice/);
    await expectRefused(['create', 'two', '--base', 'deb', '--memory', '256', '--cpus', '1', '--port', '9000:80'], /used by VM "one"/);
    await expectRefused(['create', 'two', '--base', 'deb', '--memory', '99999999', '--cpus', '1'], /memory/);
    await expectRefused(['create', 'two', '--base', 'deb', '--memory', '256', '--cpus', '4096'], /--cpus must be a whole number from 1 to 64/);
    await expectRefused(['create', 'two', '--base', 'deb', '--memory', '256', '--cpus', String(cpus().length + 1)], /CPUs/);
    await expectRefused(['create', 'two', '--base', 'nothere', '--memory', '256', '--cpus', '1'], /no base image/);
    await expectRefused(['create', 'two', '--memory', '256', '--cpus', '1'], /--base/);
  });

  it('lists VMs with their status, shows info with the disk chain, and keeps listing when one vm.toml is corrupt', async () => {
    await importBase('deb');
    await xray(home, ['create', 'good', '--base', 'deb', '--memory', '256', '--cpus', '1']);
    await xray(home, ['create', 'bad', '--base', 'deb', '--memory', '256', '--cpus', '1']);
    const badToml = join(home, 'vms', 'bad', 'vm.toml');
    await writeFile(badToml, 'base = "deb"\nmemory = [unclosed\n');
    const r = await xray(home, ['list', '--json']);
    expect(r.code).toBe(0);
    const vms = JSON.parse(r.stdout);
    expect(vms.map((v: { name: string }) => v.name).sort()).toEqual(['bad', 'good']);
    const bad = vms.find((v: { name: string }) => v.name === 'bad');
    expect(bad.configError).toMatch(/vm\.toml.*line 2/);
    expect(await readFile(badToml, 'utf8')).toBe('base = "deb"\nmemory = [unclosed\n');
    const text = await xray(home, ['list']);
    expect(text.stdout).toMatch(/good\s+stopped\s+deb\s+256 MB/);
    const info = JSON.parse((await xray(home, ['info', 'good', '--json'])).stdout);
    expect(info.diskChain.map((d: { format: string }) => d.format)).toEqual(['qcow2', 'qcow2']);
    expect(info.diskChain[1].filename).toMatch(/bases\/deb\.qcow2$/);
  });

  it('asks before removing and refuses without a terminal unless --force', async () => {
    await importBase('deb');
    await xray(home, ['create', 'gone', '--base', 'deb', '--memory', '256', '--cpus', '1']);
    await expectRefused(['remove', 'gone'], /--force/);
    expect((await xray(home, ['remove', 'gone', '--force'])).code).toBe(0);
    expect(await listing(join(home, 'vms'))).toEqual([]);
    await expectRefused(['remove', 'gone', '--force'], /does not exist/);
  });

  it('adds, lists and removes port forwards, refusing clashes', async () => {
    await importBase('deb');
    await xray(home, ['create', 'p1', '--base', 'deb', '--memory', '256', '--cpus', '1', '--port', '9200:80']);
    await xray(home, ['create', 'p2', '--base', 'deb', '--memory', '256', '--cpus', '1']);
    expect((await xray(home, ['port', 'add', 'p2', '9300:3000'])).code).toBe(0);
    expect(JSON.parse((await xray(home, ['port', 'list', 'p2', '--json'])).stdout)).toMatchObject({ forwards: [{ host: 9300, guest: 3000, listening: null }], listening: null });
    const before = await readFile(join(home, 'vms', 'p2', 'vm.toml'), 'utf8');
    for (const [args, pattern] of [
      [['port', 'add', 'p2', '9200:80'], /used by VM "p1"/],
      [['port', 'add', 'p2', '9300:22'], /already uses host port 9300/],
      [['port', 'add', 'p2', '99999:1'], /port mapping/],
      [['port', 'remove', 'p2', '9400:1'], /no port mapping/],
    ] as const) {
      const r = await xray(home, [...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(pattern);
    }
    expect(await readFile(join(home, 'vms', 'p2', 'vm.toml'), 'utf8')).toBe(before);
    expect((await xray(home, ['port', 'remove', 'p2', '9300:3000'])).code).toBe(0);
    expect(JSON.parse((await xray(home, ['port', 'list', 'p2', '--json'])).stdout)).toMatchObject({ forwards: [] });
  });

  it('takes, lists, reverts and deletes offline snapshots of a stopped VM', async () => {
    await importBase('deb');
    await xray(home, ['create', 's', '--base', 'deb', '--memory', '256', '--cpus', '1']);
    const disk = join(home, 'vms', 's', 'disk.qcow2');
    qemuImg(['snapshot', '-l', disk]);
    const r = await xray(home, ['snapshot', 'create', 's', 'clean', '-m', 'fresh install', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'clean', hasMemory: false, description: 'fresh install' });
    const info = JSON.parse((await xray(home, ['info', 's', '--json'])).stdout);
    const missing = await xray(home, ['info', 'nosuch']);
    expect([missing.code, missing.stderr]).toEqual([1, 'xray: VM "nosuch" does not exist; run "xray list" to see your VMs.\n']);
    expect(info.snapshots).toEqual([expect.objectContaining({ name: 'clean', description: 'fresh install', auto: false, hasMemory: false })]);
    expect(info.diskChain.map((layer: { filename: string }) => layer.filename)).toEqual([disk, join(home, 'bases', 'deb.qcow2')]);
    const { spawnSync } = await import('node:child_process');
    spawnSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 0 64k', disk]);
    expect((await xray(home, ['snapshot', 'revert', 's', 'clean', '--force'])).code).toBe(0);
    const read = spawnSync('qemu-io', ['-f', 'qcow2', '-c', 'read -P 0 0 64k', disk], { encoding: 'utf8' });
    expect(read.stdout).not.toMatch(/Pattern verification failed/);
    const list = JSON.parse((await xray(home, ['snapshot', 'list', 's', '--json'])).stdout);
    expect(list.map((x: { name: string }) => x.name)).toEqual(['clean']);
    await expectRefused(['snapshot', 'create', 's', 'bad name'], /name/);
    expect((await xray(home, ['snapshot', 'delete', 's', 'clean', '--force'])).code).toBe(0);
    expect(JSON.parse((await xray(home, ['snapshot', 'list', 's', '--json'])).stdout)).toEqual([]);
  });
});

describe('an existing ~/.xray from the original tool', () => {
  it('loads its vm.toml, config.toml and bases unchanged, and keeps unknown keys across a rewrite', async () => {
    await mkdir(join(home, 'bases'), { recursive: true });
    qemuImg(['create', '-q', '-f', 'qcow2', join(home, 'bases', 'ubuntu.qcow2'), '1G']);
    await mkdir(join(home, 'vms', 'old'), { recursive: true });
    qemuImg(['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', '../../bases/ubuntu.qcow2', join(home, 'vms', 'old', 'disk.qcow2')]);
    await writeFile(
      join(home, 'vms', 'old', 'vm.toml'),
      [
        'base = "ubuntu"',
        'memory = 2048',
        'cpus = 2',
        'ports = ["8080:80", "5432:5432"]',
        'ssh_port = 2222',
        'ssh_user = "ubuntu"',
        'firewall_configured = true',
        'first_boot_completed = true',
        'favourite_colour = "teal"',
        '',
        '[firewall]',
        '"140.82.112.3:443" = "allow"',
        '"1.2.3.4:80" = "deny"',
        '',
        '[plugins.notes]',
        'text = "hello"',
        '',
      ].join('\n'),
    );
    await writeFile(join(home, 'config.toml'), 'autostart = ["old"]\n');
    await writeFile(join(home, 'default-firewall-rules.conf'), '# mine\npypi.org\n');
    const list = JSON.parse((await xray(home, ['list', '--json'])).stdout);
    expect(list).toEqual([expect.objectContaining({ name: 'old', base: 'ubuntu', memoryMb: 2048, cpus: 2, sshPort: 2222, ports: [{ host: 8080, guest: 80 }, { host: 5432, guest: 5432 }] })]);
    expect(JSON.parse((await xray(home, ['config', 'show', '--json'])).stdout).autostart).toEqual(['old']);
    expect((await xray(home, ['port', 'add', 'old', '9090:90'])).code).toBe(0);
    const rewritten = await readFile(join(home, 'vms', 'old', 'vm.toml'), 'utf8');
    expect(rewritten).toContain('favourite_colour = "teal"');
    expect(rewritten).toContain('"140.82.112.3:443" = "allow"');
    expect(rewritten).toMatch(/\[plugins\.notes\]\s+text = "hello"/);
    expect(rewritten).toContain('"9090:90"');
    expect(await readFile(join(home, 'default-firewall-rules.conf'), 'utf8')).toBe('# mine\npypi.org\n');
    expect(JSON.parse((await xray(home, ['base', 'list', '--json'])).stdout)[0]).toMatchObject({ name: 'ubuntu', usedBy: ['old'] });
  });
});

describe('settings', () => {
  it('shows, sets and refuses unknown keys and bad values without touching the file', async () => {
    expect((await xray(home, ['config', 'path'])).stdout.trim()).toBe(join(home, 'config.toml'));
    expect((await xray(home, ['config', 'set', 'autostart', 'true'])).code).toBe(0);
    expect(JSON.parse((await xray(home, ['config', 'show', '--json'])).stdout).autostart).toBe(true);
    const before = await readFile(join(home, 'config.toml'), 'utf8');
    const unknown = await xray(home, ['config', 'set', 'colour', 'blue']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/colour/);
    const bad = await xray(home, ['config', 'set', 'prompt_timeout', 'soon']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(await readFile(join(home, 'config.toml'), 'utf8')).toBe(before);
  });

  it('creates a new XRAY_HOME private to the user', async () => {
    const fresh = join(home, 'new-home');
    expect((await xray(fresh, ['list'])).code).toBe(0);
    expect((await stat(fresh)).mode & 0o777).toBe(0o700);
    expect((await stat(join(fresh, 'vms'))).mode & 0o777).toBe(0o700);
  });
});

describe('shell completion', () => {
  it('prints a bash script that bash accepts and that completes VM names', async () => {
    await importBase('deb');
    await xray(home, ['create', 'compl', '--base', 'deb', '--memory', '256', '--cpus', '1']);
    const script = (await xray(home, ['completion', 'bash'])).stdout;
    const { spawnSync } = await import('node:child_process');
    const { REPO } = await import('../helpers/cli');
    const probe = spawnSync(
      'bash',
      ['-c', `xray() { node ${REPO}/bin/xray "$@"; }\n${script}\nCOMP_WORDS=(xray info ""); COMP_CWORD=2; _xray; echo "\${COMPREPLY[*]}"`],
      { encoding: 'utf8', env: { ...process.env, XRAY_HOME: home } },
    );
    expect(probe.status, probe.stderr).toBe(0);
    expect(probe.stdout).toContain('compl');
    const fish = (await xray(home, ['completion', 'fish'])).stdout;
    expect(fish).toContain('complete -c xray');
  });
});

import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatPortMapping, parsePortMapping, requirePortMapping } from '../../../src-main/shared/vm';
import { HomePaths } from '../../../src-main/core/paths';
import {
  parseVmConfig,
  serializeVmConfig,
  type VmConfig,
} from '../../../src-main/core/store/vm-config';
import { VmStore } from '../../../src-main/core/store/vm-store';
import { parseToml } from '../../../src-main/core/store/toml-file';
import { refusal } from '../../helpers/refusal';

/** PYTHON_VM_TOML is a vm.toml as the original Python tool wrote it, plus keys Xray does not know. */
const PYTHON_VM_TOML = `base = "ubuntu-24.04"
memory = 4096
cpus = 2
ports = ["8080:80", "2443:443"]
ssh_port = 2201
ssh_user = "ubuntu"
firewall_configured = true
first_boot_completed = true
favourite_colour = "teal"

[firewall]
"1.2.3.4:443" = "allow"
"example.com" = "deny"
"*.example.org:443" = "allow"
"10.0.0.0/8" = "deny"

[plugins.foo]
token = "abc"
level = 3

[plugins.foo.nested]
deep = true

[notes]
owner = "sam"
`;

let root: string;
let paths: HomePaths;
let store: VmStore;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'xray-store-'));
  paths = new HomePaths(root);
  store = new VmStore(paths);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeVm(name: string, text: string): Promise<string> {
  const vm = paths.vm(name);
  await mkdir(vm.dir, { recursive: true });
  await writeFile(vm.config, text);
  return vm.config;
}

function sampleConfig(overrides: Partial<VmConfig> = {}): VmConfig {
  return {
    base: 'debian-12',
    memoryMb: 2048,
    cpus: 2,
    ports: [],
    sshPort: 2222,
    sshUser: 'debian',
    firewallConfigured: false,
    firstBootCompleted: false,
    firewall: {},
    plugins: {},
    snapshots: {},
    autoSnapshots: null,
    cloudInit: false,
    shares: [],
    extra: {},
    ...overrides,
  };
}

describe('vm.toml written by the Python tool', () => {
  it('loads with every legacy key mapped', async () => {
    await writeVm('web', PYTHON_VM_TOML);
    const cfg = await store.read('web');
    expect(cfg).toMatchObject({
      base: 'ubuntu-24.04',
      memoryMb: 4096,
      cpus: 2,
      ports: [{ host: 8080, guest: 80 }, { host: 2443, guest: 443 }],
      sshPort: 2201,
      sshUser: 'ubuntu',
      firewallConfigured: true,
      firstBootCompleted: true,
      firewall: { '1.2.3.4:443': 'allow', 'example.com': 'deny', '*.example.org:443': 'allow', '10.0.0.0/8': 'deny' },
      plugins: { foo: { token: 'abc', level: 3, nested: { deep: true } } },
      snapshots: {},
      autoSnapshots: null,
      cloudInit: true,
    });
    expect(cfg.extra).toEqual({ favourite_colour: 'teal', notes: { owner: 'sam' } });
  });

  it('keeps unknown keys, plugin tables and legacy keys through a rewrite', async () => {
    const path = await writeVm('web', PYTHON_VM_TOML);
    await store.update('web', (cfg) => {
      cfg.firewall['pypi.org:443'] = 'allow';
      cfg.snapshots['clean'] = { description: 'fresh install' };
    });
    const raw = parseToml(await readFile(path, 'utf8'), path);
    expect(raw).toMatchObject({
      base: 'ubuntu-24.04',
      memory: 4096,
      cpus: 2,
      ports: ['8080:80', '2443:443'],
      ssh_port: 2201,
      ssh_user: 'ubuntu',
      firewall_configured: true,
      first_boot_completed: true,
      favourite_colour: 'teal',
      notes: { owner: 'sam' },
      plugins: { foo: { token: 'abc', level: 3, nested: { deep: true } } },
      snapshots: { clean: { description: 'fresh install' } },
    });
    expect(raw.firewall).toEqual({
      '1.2.3.4:443': 'allow',
      'example.com': 'deny',
      '*.example.org:443': 'allow',
      '10.0.0.0/8': 'deny',
      'pypi.org:443': 'allow',
    });
  });

  it('writes integers plainly so people and older readers can edit the file', async () => {
    const path = await writeVm('web', PYTHON_VM_TOML);
    await store.update('web', (cfg) => {
      cfg.memoryMb = 16384;
    });
    const text = await readFile(path, 'utf8');
    expect(text).toMatch(/^memory = 16384$/m);
    expect(text).toMatch(/^ssh_port = 2201$/m);
  });
});

describe('defaults and round trip', () => {
  it('fills missing optional keys with defaults', () => {
    const cfg = parseVmConfig({ base: 'b', ssh_port: 2222 }, '/x/vm.toml');
    expect(cfg).toEqual({
      base: 'b',
      memoryMb: 8192,
      cpus: 4,
      ports: [],
      sshPort: 2222,
      sshUser: 'ubuntu',
      firewallConfigured: false,
      firstBootCompleted: false,
      firewall: {},
      plugins: {},
      snapshots: {},
      autoSnapshots: null,
      cloudInit: true,
      shares: [],
      extra: {},
    });
  });

  it('writes cloud_init only as an opt-out, and reads its absence as on', () => {
    expect(serializeVmConfig(sampleConfig({ cloudInit: true }))).not.toHaveProperty('cloud_init');
    expect(serializeVmConfig(sampleConfig({ cloudInit: false }))).toMatchObject({ cloud_init: false });
    expect(parseVmConfig({ base: 'b', ssh_port: 22, cloud_init: false }, 'vm.toml').cloudInit).toBe(false);
  });

  it('parses what it serializes, expiring firewall entries included', () => {
    const cfg = sampleConfig({
      ports: [{ host: 8080, guest: 80 }],
      firewall: { 'a.com': 'allow', 'b.com:443': { action: 'deny', expires: '2030-01-02T03:04:05.000Z' } },
      plugins: { p: { x: 1 } },
      snapshots: { s1: { description: 'before upgrade' }, 'auto-first-boot': { description: 'Taken automatically.', auto: true } },
      autoSnapshots: false,
      cloudInit: true,
      shares: [{ hostPath: '/home/me/project', guestPath: '/home/me/project', readOnly: false }, { hostPath: '/home/me/data', guestPath: '/data', readOnly: true }],
      extra: { custom: [1, 2] },
    });
    expect(parseVmConfig(serializeVmConfig(cfg), 'vm.toml')).toEqual(cfg);
  });

  it('keeps unknown keys inside firewall and snapshot tables', () => {
    const raw = parseToml(
      'base = "b"\nssh_port = 22\n[firewall."x.com"]\naction = "allow"\nreason = "docs"\n[snapshots.s1]\ndescription = "d"\ncreated_by = "cli"\n',
      'vm.toml',
    );
    expect(serializeVmConfig(parseVmConfig(raw, 'vm.toml'))).toMatchObject({
      firewall: { 'x.com': { action: 'allow', reason: 'docs' } },
      snapshots: { s1: { description: 'd', created_by: 'cli' } },
    });
  });

  it('accepts a TOML date in expires and keeps it as an ISO string', () => {
    const path = '/h/vm.toml';
    const raw = parseToml('base = "b"\nssh_port = 22\n[firewall."x.com"]\naction = "allow"\nexpires = 2030-05-01T00:00:00Z\n', path);
    expect(parseVmConfig(raw, path).firewall['x.com']).toEqual({ action: 'allow', expires: '2030-05-01T00:00:00.000Z' });
  });
});

describe('bad vm.toml', () => {
  it.each([
    ['memory = "abc"', '"memory"', 'positive whole number of megabytes (found "abc")'],
    ['memory = -5', '"memory"', 'found -5'],
    ['cpus = 1.5', '"cpus"', 'found 1.5'],
    ['ssh_port = 70000', '"ssh_port"', 'found 70000'],
    ['ssh_port = 0', '"ssh_port"', 'found 0'],
    ['memory = 0', '"memory"', 'found 0'],
    ['cpus = 1025', '"cpus"', 'found 1025'],
    ['memory = 9007199254740993', '"memory"', 'found 9007199254740993'],
    ['base = "../up"', '"base"', 'found "../up"'],
    ['ssh_user = "a b"', '"ssh_user"', 'found "a b"'],
    ['auto_snapshots = 1', '"auto_snapshots"', 'true or false'],
    ['plugins = [ "x" ]', '"plugins"', 'found a list'],
    ['firewall = 1979-05-27T07:32:00Z', '"firewall"', 'found 1979-05-27T07:32:00.000Z'],
    ['shares = [ 1 ]', '"shares"', 'found a list'],
    ['ports = ["80:8o"]', '"ports"', '"80:8o"'],
    ['ports = "8080:80"', '"ports"', 'found "8080:80"'],
    ['first_boot_completed = "yes"', '"first_boot_completed"', 'true or false'],
    ['[firewall]\n"1.2.3.4:443" = "maybe"', '"firewall"', '"1.2.3.4:443"'],
    ['[snapshots.s]\nnote = "x"', '"snapshots"', 'description'],
  ])('%s names the key', async (line, key, detail) => {
    const required = ['base = "b"', 'ssh_port = 2222'].filter((kv) => !line.startsWith(kv.split(' ')[0]!));
    const path = await writeVm('bad', `${required.join('\n')}\n${line}\n`);
    const err = await refusal(store.read('bad'));
    expect(err.code).toBe('corrupt');
    expect(err.message).toContain(path);
    expect(err.message).toContain(`key ${key}`);
    expect(err.message).toContain(detail);
  });

  it.each(['base', 'ssh_port'])('a missing %s is reported', async (key) => {
    const text = key === 'base' ? 'ssh_port = 2222\n' : 'base = "b"\n';
    await writeVm('bad', text);
    const err = await refusal(store.read('bad'));
    expect(err.message).toContain(`key "${key}" is missing`);
  });

  it('a file that is not TOML is reported with path and line, left byte-identical, and the other VMs still list', async () => {
    const broken = 'base = "b"\nssh_port = 2222\nmemory = = 3\n';
    const path = await writeVm('broken', broken);
    await store.write('good', sampleConfig());

    const err = await refusal(store.read('broken'));
    expect(err.code).toBe('corrupt');
    expect(err.message).toContain(`${path} line 3`);

    const updateErr = await refusal(store.update('broken', (cfg) => { cfg.cpus = 1; }));
    expect(updateErr.code).toBe('corrupt');
    expect(await readFile(path, 'utf8')).toBe(broken);

    const listed = await store.list();
    expect(listed.map((e) => e.name)).toEqual(['broken', 'good']);
    expect(listed[0]).toMatchObject({ config: null });
    expect(listed[0]?.error).toContain('line 3');
    expect(listed[1]).toMatchObject({ error: null, config: { base: 'debian-12' } });
  });

  it('an update that makes a value invalid is refused and the file is unchanged', async () => {
    await store.write('vm1', sampleConfig());
    const path = paths.vm('vm1').config;
    const before = await readFile(path, 'utf8');
    const err = await refusal(store.update('vm1', (cfg) => { cfg.memoryMb = 0; }));
    expect(err.code).toBe('invalid-argument');
    expect(err.message).toContain('"memory"');
    expect(await readFile(path, 'utf8')).toBe(before);
  });
});

describe('VmStore', () => {
  it('lists only directories with a vm.toml and a valid name', async () => {
    await store.write('b-vm', sampleConfig());
    await store.write('a-vm', sampleConfig());
    await mkdir(join(paths.vmsDir, 'empty-dir'));
    await mkdir(join(paths.vmsDir, '.hidden'));
    await writeFile(join(paths.vmsDir, '.hidden', 'vm.toml'), 'base = "b"\nssh_port = 1\n');
    expect((await store.list()).map((e) => e.name)).toEqual(['a-vm', 'b-vm']);
  });

  it('lists nothing when vms/ does not exist yet', async () => {
    expect(await store.list()).toEqual([]);
  });

  it('reports a missing VM in one sentence', async () => {
    const err = await refusal(store.read('ghost'));
    expect(err.code).toBe('not-found');
    expect(err.message).toBe('VM "ghost" does not exist; run "xray list" to see your VMs.');
    expect((await refusal(store.update('ghost', () => undefined))).code).toBe('not-found');
    expect(await store.exists('ghost')).toBe(false);
    await expect(stat(paths.vm('ghost').dir)).rejects.toThrow();
  });

  it('refuses names that could escape vms/', async () => {
    expect((await refusal(store.read('../etc'))).code).toBe('invalid-argument');
    expect((await refusal(store.write('.x', sampleConfig()))).code).toBe('invalid-argument');
    expect(await store.exists('../x')).toBe(false);
  });

  it('writes vm.toml 0600 in a 0700 directory, and remove deletes the directory', async () => {
    await store.write('vm1', sampleConfig());
    const vm = paths.vm('vm1');
    expect((await stat(vm.config)).mode & 0o777).toBe(0o600);
    expect((await stat(vm.dir)).mode & 0o777).toBe(0o700);
    expect(await store.exists('vm1')).toBe(true);
    await writeFile(vm.disk, 'x');
    await store.remove('vm1');
    await expect(stat(vm.dir)).rejects.toThrow();
    expect(await store.exists('vm1')).toBe(false);
  });

  it('keeps the file private after an update even if it was looser', async () => {
    await store.write('vm1', sampleConfig());
    await chmod(paths.vm('vm1').config, 0o644);
    await store.update('vm1', (cfg) => { cfg.cpus = 3; });
    expect((await stat(paths.vm('vm1').config)).mode & 0o777).toBe(0o600);
  });

  it('loses none of 100 concurrent updates', async () => {
    await store.write('busy', sampleConfig());
    const other = new VmStore(paths);
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 === 0 ? store : other).update('busy', (cfg) => {
          cfg.firewall[`10.0.0.${i}:443`] = 'allow';
        }),
      ),
    );
    const cfg = await store.read('busy');
    expect(Object.keys(cfg.firewall)).toHaveLength(100);
    for (let i = 0; i < 100; i++) expect(cfg.firewall[`10.0.0.${i}:443`]).toBe('allow');
    await expect(stat(`${paths.vm('busy').config}.lock`)).rejects.toThrow();
  });
});

describe('port mappings', () => {
  it.each([
    ['8080:80', { host: 8080, guest: 80 }],
    ['1:65535', { host: 1, guest: 65535 }],
    [' 2222 : 22 ', { host: 2222, guest: 22 }],
  ])('%j parses', (text, expected) => {
    expect(parsePortMapping(text)).toEqual(expected);
    expect(formatPortMapping(expected)).toBe(`${expected.host}:${expected.guest}`);
  });

  it.each(['80:8o', '8080', '8080:', ':80', '0:80', '80:65536', '99999:1', '-1:80', '80:80:80', '1.5:80', '', 'a:b'])(
    '%j is refused in one sentence',
    (text) => {
      expect(parsePortMapping(text)).toBeNull();
      expect(() => requirePortMapping(text)).toThrow(
        `The port mapping "${text}" is not HOST:GUEST with ports from 1 to 65535; write it like 8080:80.`,
      );
    },
  );
});

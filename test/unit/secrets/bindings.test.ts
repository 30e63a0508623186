// Secret bindings in vm.toml: what is written (never a value), what is refused, and what older files do.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PLACEHOLDER_PATTERN, defaultEnvName, placeholderToken } from '../../../src-main/shared/secrets';
import { HomePaths } from '../../../src-main/core/paths';
import { SecretBindings, bindingCoversHost, makePlaceholder } from '../../../src-main/core/secrets/bindings';
import { updateToml } from '../../../src-main/core/store/toml-file';
import { VmStore } from '../../../src-main/core/store/vm-config';

let dir: string;
let paths: HomePaths;
let store: VmStore;
let bindings: SecretBindings;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-bindings-'));
  paths = new HomePaths(dir);
  store = new VmStore(paths);
  const vm = { base: 'debian', memoryMb: 1024, cpus: 1, ports: [], sshPort: 2222, sshUser: 'debian', firewallConfigured: false, firstBootCompleted: false, firewall: {}, plugins: {}, snapshots: {}, autoSnapshots: null, cloudInit: false, extra: {} };
  await store.write('box', vm);
  await store.write('other', vm);
  bindings = new SecretBindings(store);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const github = { secret: 'github', hosts: ['API.GitHub.com', '*.githubusercontent.com'], header: 'Authorization', format: 'Bearer {}' };

describe('SecretBindings', () => {
  it('writes the binding to vm.toml with a fresh placeholder and the default variable', async () => {
    const bound = await bindings.bind('box', github);
    expect(bound).toMatchObject({ secret: 'github', hosts: ['api.github.com', '*.githubusercontent.com'], header: 'Authorization', format: 'Bearer {}', env: 'GITHUB_TOKEN' });
    expect(bound.placeholder).toMatch(PLACEHOLDER_PATTERN);
    expect(bound.placeholder.startsWith('xray:github:')).toBe(true);
    const text = await readFile(paths.vm('box').config, 'utf8');
    expect(text).toContain('[secret_bindings.github]');
    expect(text).toContain(`placeholder = "${bound.placeholder}"`);
    expect(await bindings.list('box')).toEqual([bound]);
  });

  it('keeps the placeholder when a binding is changed, so the guest copy stays good', async () => {
    const first = await bindings.bind('box', github);
    const changed = await bindings.bind('box', { ...github, hosts: ['api.github.com'], header: 'X-Token', format: '{}', env: 'GH_TOKEN' });
    expect(changed).toEqual({ secret: 'github', hosts: ['api.github.com'], header: 'X-Token', format: '{}', placeholder: first.placeholder, env: 'GH_TOKEN' });
  });

  it('gives each VM its own placeholder for the same secret', async () => {
    const a = await bindings.bind('box', github);
    const b = await bindings.bind('other', github);
    expect(a.placeholder).not.toBe(b.placeholder);
  });

  it('unbinds, and says when there was nothing to unbind', async () => {
    await bindings.bind('box', github);
    expect(await bindings.unbind('box', 'github')).toBe(true);
    expect(await bindings.unbind('box', 'github')).toBe(false);
    expect(await bindings.list('box')).toEqual([]);
    expect(await readFile(paths.vm('box').config, 'utf8')).not.toContain('secret_bindings');
  });

  it.each([
    [{ hosts: [] }, 'Secret "github" was not bound: name at least one host, such as api.github.com.'],
    [{ hosts: ['not a host'] }, 'Secret "github" was not bound: "not a host" is not a host name or *.domain.'],
    [{ header: 'Host' }, 'Secret "github" was not bound: the Host header shapes the connection and cannot carry a secret.'],
    [{ header: 'Bad Header' }, 'Secret "github" was not bound: "Bad Header" is not an HTTP header name.'],
    [{ format: 'Bearer' }, 'Secret "github" was not bound: the format "Bearer" must hold "{}" exactly once, where the secret goes.'],
    [{ format: '{} {}' }, 'Secret "github" was not bound: the format "{} {}" must hold "{}" exactly once, where the secret goes.'],
    [{ env: '1TOKEN' }, 'Secret "github" was not bound: "1TOKEN" is not an environment variable name (letters, digits and "_", not starting with a digit).'],
  ])('refuses %j with one sentence, writing nothing', async (change, message) => {
    await expect(bindings.bind('box', { ...github, ...change })).rejects.toThrow(message);
    expect(await bindings.list('box')).toEqual([]);
  });

  it('loads a vm.toml without bindings, and drops a value someone pasted beside one', async () => {
    expect(await bindings.list('box')).toEqual([]);
    const bound = await bindings.bind('box', github);
    await updateToml(paths.vm('box').config, (data) => {
      (data.secret_bindings as Record<string, Record<string, unknown>>).github!.value = 'ghp_pasted_by_hand';
    });
    expect(await bindings.list('box')).toEqual([bound]);
    await bindings.bind('box', { ...github, hosts: ['api.github.com'] });
    expect(await readFile(paths.vm('box').config, 'utf8')).not.toContain('ghp_pasted_by_hand');
  });

  it('refuses a vm.toml whose binding has no valid placeholder, naming the key', async () => {
    await updateToml(paths.vm('box').config, (data) => {
      data.secret_bindings = { github: { hosts: ['api.github.com'], header: 'Authorization', format: '{}', placeholder: 'ghp_real_token', env: 'GITHUB_TOKEN' } };
    });
    await expect(bindings.list('box')).rejects.toThrow(/key "secret_bindings" has "github" = a table, but each binding must be a table with hosts, header, format \(with "\{\}"\), an xray placeholder and env; fix the file\./);
  });
});

describe('placeholders and hosts', () => {
  it('makes 128-bit placeholders whose random part is what the proxy looks for', () => {
    const placeholder = makePlaceholder('npm.registry');
    expect(placeholder).toMatch(/^xray:npm\.registry:[0-9a-f]{32}$/);
    expect(placeholderToken(placeholder)).toBe(placeholder.slice('xray:npm.registry:'.length));
    expect(placeholderToken('xray:npm:short')).toBeNull();
  });

  it.each([
    ['api.github.com', true],
    ['raw.githubusercontent.com', true],
    ['githubusercontent.com', true],
    ['github.com', false],
    ['evilgithubusercontent.com', false],
  ])('a binding for api.github.com and *.githubusercontent.com covers %s: %s', (host, covered) => {
    expect(bindingCoversHost({ hosts: ['api.github.com', '*.githubusercontent.com'] }, host)).toBe(covered);
  });

  it.each([
    ['github', 'GITHUB_TOKEN'],
    ['npm.registry', 'NPM_REGISTRY_TOKEN'],
    ['1password', '_1PASSWORD_TOKEN'],
  ])('names the default variable for %s %s', (secret, env) => {
    expect(defaultEnvName(secret)).toBe(env);
  });
});

// `xray secret`: a value goes in on stdin, never on the command line, and
// lands on the host only; a VM gets a binding with a placeholder.
import { spawn } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XRAY_BIN, xray } from '../helpers/cli';
import { addFirmwareOnlyVm, makeTestHome, type TestHome } from '../helpers/home';

const VALUE = 'ghp_not-a-real-token-0123456789';
let home: TestHome;

beforeEach(async () => {
  home = await makeTestHome('xray-cli-secret-');
  await addFirmwareOnlyVm(home.paths, 'box');
});

afterEach(async () => {
  await home.cleanup();
});

/** piped runs the CLI with `input` on its stdin. */
function piped(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [XRAY_BIN, ...args], { env: { ...process.env, XRAY_HOME: home.root, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** everything reads every file under the home, to look for the value where it must not be. */
async function everything(dir: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const texts = await Promise.all(entries.filter((e) => e.isFile()).map((e) => readFile(`${e.parentPath}/${e.name}`, 'utf8').catch(() => '')));
  return texts.join('\n');
}

describe('xray secret', () => {
  it('stores a value piped in, lists it by name only, and binds it to a VM by placeholder', async () => {
    const set = await piped(['secret', 'set', 'github'], `${VALUE}\n`);
    expect(set.code, set.stderr).toBe(0);
    const list = await xray(home.root, ['secret', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toMatchObject({ backend: { kind: 'file' }, secrets: [{ name: 'github' }] });
    expect(list.stdout).not.toContain(VALUE);
    const bind = await xray(home.root, ['secret', 'bind', 'box', 'github', '--host', 'api.github.com', '--header', 'Authorization', '--format', 'Bearer {}', '--json']);
    expect(bind.code, bind.stderr).toBe(0);
    expect(JSON.parse(bind.stdout)).toMatchObject({ secret: 'github', hosts: ['api.github.com'], header: 'Authorization', env: 'GITHUB_TOKEN', placeholder: expect.stringMatching(/^xray:github:[0-9a-f]{32}$/) });
    const vmToml = await readFile(home.paths.vm('box').config, 'utf8');
    expect(vmToml).toContain('xray:github:');
    expect(vmToml).not.toContain(VALUE);
  });

  it('keeps the value out of everything but its own 0600 store', async () => {
    await piped(['secret', 'set', 'github'], VALUE);
    await xray(home.root, ['secret', 'bind', 'box', 'github', '--host', 'api.github.com', '--header', 'Authorization']);
    const places = (await everything(home.root)).split(VALUE).length - 1;
    expect(places).toBe(1);
  });

  it('refuses to bind a secret that is not set, and a header that shapes the connection, in one sentence each', async () => {
    const missing = await xray(home.root, ['secret', 'bind', 'box', 'nope', '--host', 'a.test', '--header', 'Authorization']);
    expect(missing.stderr).toBe('xray: There is no secret "nope"; set it first with "xray secret set nope".\n');
    await piped(['secret', 'set', 'github'], VALUE);
    const host = await xray(home.root, ['secret', 'bind', 'box', 'github', '--host', 'a.test', '--header', 'Host']);
    expect(host.code).toBe(1);
    expect(host.stderr.trim().split('\n')).toHaveLength(1);
    expect(host.stderr).toContain('cannot carry a secret');
  });
});

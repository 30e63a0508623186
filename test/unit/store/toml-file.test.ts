import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XrayError } from '../../../src-main/shared/errors';
import { parseToml, readToml, stringifyToml, updateToml } from '../../../src-main/core/store/toml-file';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xray-toml-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('toml-file', () => {
  it('writes integers without digit separators, leaving look-alike strings alone', () => {
    const text = stringifyToml({ memory: 8192, big: -1234567, ratio: 1.5, note: '8_192', list: [1000, 2000], t: { port: 65535 } });
    expect(text).toContain('memory = 8192\n');
    expect(text).toContain('big = -1234567\n');
    expect(text).toContain('ratio = 1.5\n');
    expect(text).toContain('note = "8_192"\n');
    expect(text).toContain('list = [ 1000, 2000 ]\n');
    expect(text).toContain('port = 65535\n');
    expect(parseToml(text, 'x')).toEqual({ memory: 8192, big: -1234567, ratio: 1.5, note: '8_192', list: [1000, 2000], t: { port: 65535 } });
  });

  it('keeps strings that look like its own integer markers (a host name a guest chose, say) as they were', () => {
    const table = { port: 443, rule: '~0:1', other: '~1:22', keys: { '~2:3': 'x' } };
    expect(parseToml(stringifyToml(table), 'x')).toEqual(table);
  });

  it('reports the line of a syntax error without the parser position noise', async () => {
    const path = join(dir, 'bad.toml');
    await writeFile(path, 'a = 1\nb = \n');
    const err = await readToml(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XrayError);
    expect((err as XrayError).message).toMatch(new RegExp(`^${path} line 2 is not valid TOML \\([^)]*[a-z]\\); fix or remove the file\\.$`));
    expect((err as XrayError).message).not.toContain('row');
  });

  it('leaves the file untouched when the mutation throws', async () => {
    const path = join(dir, 'x.toml');
    await writeFile(path, 'a = 1\n');
    await expect(updateToml(path, () => { throw new Error('no'); })).rejects.toThrow('no');
    expect(await readFile(path, 'utf8')).toBe('a = 1\n');
  });
});

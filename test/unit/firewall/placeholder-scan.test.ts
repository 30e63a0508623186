// PlaceholderScanner: placeholders found in text and in streams, however they are spelled or split.
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { PlaceholderScanner, maskValues } from '../../../src-main/core/firewall/placeholder-scan';

const github = { secret: 'github', placeholder: 'xray:github:0123456789abcdef0123456789abcdef' };
const npm = { secret: 'npm', placeholder: 'xray:npm:fedcba9876543210fedcba9876543210' };
const scanner = new PlaceholderScanner([github, npm]);

/** run streams `chunks` through the scanner and returns what came out, or the secret that stopped it. */
async function run(chunks: string[]): Promise<{ out: string; found: string | null }> {
  let out = '';
  let found: string | null = null;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString('latin1');
      done();
    },
  });
  try {
    await pipeline(Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))), scanner.stream((secret) => { found = secret; return new Error('found'); }), sink);
  } catch {
    // The scanner failing the stream is how a placeholder is announced.
  }
  return { out, found };
}

describe('PlaceholderScanner.find', () => {
  it.each([
    ['Bearer xray:github:0123456789abcdef0123456789abcdef', ['github']],
    ['token=xray%3Agithub%3A0123456789ABCDEF0123456789ABCDEF', ['github']],
    ['{"a":"xray:npm:fedcba9876543210fedcba9876543210","b":"xray:github:0123456789abcdef0123456789abcdef"}', ['github', 'npm']],
    ['xray:github:0123456789abcdef0123456789abcde', []],
    ['nothing here', []],
  ])('%s → %j', (text, secrets) => {
    expect(scanner.find(text)).toEqual(secrets);
  });

  it('masks placeholders in text shown in reports', () => {
    expect(scanner.mask('/x?t=xray:github:0123456789ABCDEF0123456789abcdef')).toBe('/x?t=xray:github:…');
  });

  it('has nothing to look for without bindings', () => {
    const none = new PlaceholderScanner([]);
    expect(none.empty).toBe(true);
    expect(none.find(github.placeholder)).toEqual([]);
  });
});

describe('PlaceholderScanner.stream', () => {
  it('finds a placeholder split at any byte between two chunks, before all of it has passed', async () => {
    const body = `{"note":"${github.placeholder}"}`;
    for (let cut = 1; cut < body.length; cut++) {
      const { out, found } = await run([body.slice(0, cut), body.slice(cut)]);
      expect(found).toBe('github');
      expect(out).not.toContain('0123456789abcdef0123456789abcdef');
    }
  });

  it('finds one spread over many one-byte chunks', async () => {
    expect((await run([...`x=${npm.placeholder}`])).found).toBe('npm');
  });

  it('passes every byte of a body without placeholders, in order, the held-back tail included', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => `chunk ${i} ${'lorem ipsum '.repeat(i % 5)};`);
    expect(await run(chunks)).toEqual({ out: chunks.join(''), found: null });
  });
});

describe('maskValues', () => {
  const secret = 'ghp_S3cretValue';

  async function masked(chunks: string[]): Promise<{ out: string; announced: number[] }> {
    const announced: number[] = [];
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString('utf8');
        done();
      },
    });
    await pipeline(Readable.from(chunks.map((c) => Buffer.from(c))), maskValues(['other-value', secret], (index) => announced.push(index)), sink);
    return { out, announced };
  }

  it('overwrites a value split at any byte with as many stars, and announces it once', async () => {
    const body = `{"auth":"Bearer ${secret}","again":"${secret}"}`;
    for (let cut = 1; cut < body.length; cut++) {
      const { out, announced } = await masked([body.slice(0, cut), body.slice(cut)]);
      expect(out).toBe(body.replaceAll(secret, '*'.repeat(secret.length)));
      expect(announced).toEqual([1]);
    }
  });

  it('masks values in a body that arrives a few bytes at a time, and in long chunks, whatever the chunk size', async () => {
    const body = `${'x'.repeat(40)}${secret}--other-value--${secret}${'y'.repeat(5000)}${secret}`;
    const expected = body.replaceAll(secret, '*'.repeat(secret.length)).replace('other-value', '*'.repeat('other-value'.length));
    for (const size of [1, 2, 3, 7, secret.length - 1, secret.length, secret.length + 1, 64, 4096]) {
      const chunks: string[] = [];
      for (let at = 0; at < body.length; at += size) chunks.push(body.slice(at, at + size));
      const { out, announced } = await masked(chunks);
      expect(out).toBe(expected);
      expect(announced.sort()).toEqual([0, 1]);
    }
  });

  it('passes a body without the values as it is', async () => {
    expect(await masked(['plain ', 'text'])).toEqual({ out: 'plain text', announced: [] });
  });
});

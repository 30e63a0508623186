// What the app says is in the app's words: no renderer text tells a person to
// pass a command-line flag (the CLI's "--memory", "--browser"), since there is
// no command line where they read it.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../../e2e/helpers';

/** FLAG matches a command-line flag: two dashes and a letter at the start of a word. */
const FLAG = /(^|[\s"'`(])--[a-z]/;

describe('renderer words', () => {
  it('name no command-line flags', async () => {
    const root = join(REPO, 'src-renderer');
    const files = (await readdir(root, { recursive: true })).filter((f) => /\.tsx?$/.test(f));
    expect(files.length).toBeGreaterThan(10);
    const found: string[] = [];
    for (const file of files) {
      const lines = (await readFile(join(root, file), 'utf8')).split('\n');
      lines.forEach((line, i) => {
        if (FLAG.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });
});

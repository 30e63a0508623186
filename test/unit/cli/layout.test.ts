// The CLI's shape: the program file only wires, commands import the leaf
// context and never the root, nothing imports in a circle, and files stay small.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = resolve(fileURLToPath(new URL('../../../src-main/cli', import.meta.url)));
const files = readdirSync(CLI, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(CLI, f));

/** imports lists the CLI files a file imports (type-only imports too: a cycle of types is still a cycle in the design). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)].map((m) => `${resolve(dirname(file), m[1]!)}.ts`);
  return found.filter((target) => target.startsWith(`${CLI}/`));
}

const graph = new Map(files.map((f) => [f, imports(f)]));
const name = (file: string) => relative(CLI, file);

describe('CLI layout', () => {
  it('has no import cycles', () => {
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (path.includes(file)) {
        cycles.push([...path.slice(path.indexOf(file)), file].map(name).join(' → '));
        return;
      }
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('lets no command import the program or the entry, and the context import no command', () => {
    const roots = [join(CLI, 'program.ts'), join(CLI, 'main.ts')];
    const back = files.filter((f) => f.includes('/commands/') && graph.get(f)!.some((t) => roots.includes(t))).map(name);
    expect(back).toEqual([]);
    expect(graph.get(join(CLI, 'context.ts'))!.filter((t) => t.includes('/commands/')).map(name)).toEqual([]);
  });

  it('keeps every CLI source file under 300 lines', () => {
    const long = files.map((f) => [name(f), readFileSync(f, 'utf8').split('\n').length] as const).filter(([, lines]) => lines >= 300);
    expect(long).toEqual([]);
  });
});

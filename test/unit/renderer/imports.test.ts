// The renderer's modules import one another without cycles: read from the
// import graph esbuild builds of src-renderer/main.tsx, as the app is bundled.
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REPO } from '../../e2e/helpers';

/** importGraph maps each src-renderer module to the src-renderer modules it imports. */
async function importGraph(): Promise<Map<string, string[]>> {
  const result = await build({
    absWorkingDir: REPO,
    entryPoints: [join('src-renderer', 'main.tsx')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'browser',
    jsx: 'automatic',
    logLevel: 'silent',
    loader: { '.css': 'empty' },
  });
  const graph = new Map<string, string[]>();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    if (!file.startsWith('src-renderer/')) continue;
    graph.set(file, input.imports.map((i) => i.path).filter((path) => path.startsWith('src-renderer/')));
  }
  return graph;
}

/** cycles lists the import cycles found, each as the modules along it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const visit = (file: string, path: string[]) => {
    const at = path.indexOf(file);
    if (at >= 0) {
      found.push(path.slice(at));
      return;
    }
    if (done.has(file)) return;
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    done.add(file);
  };
  for (const file of graph.keys()) visit(file, []);
  return found;
}

describe('renderer imports', () => {
  it('form no cycles', async () => {
    const graph = await importGraph();
    expect(graph.size).toBeGreaterThan(10);
    expect(cycles(graph)).toEqual([]);
  });
});

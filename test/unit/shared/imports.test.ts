// Xray's modules import one another without cycles: read from the import
// graphs esbuild builds of the renderer and of src-main's entry points (the
// CLI, the Electron main process and preload, the service), as they are bundled.
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REPO } from '../../e2e/helpers';

/** importGraph maps each module under `root` reached from `entryPoints` to the modules under `root` it imports. */
async function importGraph(root: string, entryPoints: string[], platform: 'browser' | 'node'): Promise<Map<string, string[]>> {
  const result = await build({
    absWorkingDir: REPO,
    entryPoints,
    bundle: true,
    write: false,
    metafile: true,
    platform,
    format: 'esm',
    outdir: join(REPO, 'dist', 'unused'),
    packages: platform === 'node' ? 'external' : undefined,
    jsx: 'automatic',
    logLevel: 'silent',
    loader: { '.css': 'empty' },
  });
  const graph = new Map<string, string[]>();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    if (!file.startsWith(root)) continue;
    graph.set(file, input.imports.map((i) => i.path).filter((path) => path.startsWith(root)));
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

describe('imports', () => {
  it('form no cycles in the renderer', async () => {
    const graph = await importGraph('src-renderer/', [join('src-renderer', 'main.tsx')], 'browser');
    expect(graph.size).toBeGreaterThan(10);
    expect(cycles(graph)).toEqual([]);
  });

  it('form no cycles in src-main', async () => {
    const entries = ['cli/main.ts', 'electron/main.ts', 'electron/preload.ts', 'core/service.ts'].map((e) => join('src-main', e));
    const graph = await importGraph('src-main/', entries, 'node');
    expect(graph.size).toBeGreaterThan(100);
    expect(cycles(graph)).toEqual([]);
  });
});

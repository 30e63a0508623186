// Bundles the plain-Node CLI (and, as they are added, the Electron layer and renderer) with esbuild.
// Dependencies stay external: node_modules is shipped beside dist/.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
};

await build({
  ...node,
  format: 'esm',
  entryPoints: { 'cli/xray': 'src-main/cli/main.ts' },
  outdir: 'dist',
});

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

// The CLI bundles its pure-JS dependencies: `xray list` starts several times
// faster than when Node resolves and loads each package from node_modules.
// ssh2 stays external (optional native parts); CommonJS code gets a real require.
await build({
  ...node,
  packages: undefined,
  external: ['ssh2', 'electron'],
  format: 'esm',
  banner: { js: "import { createRequire as __xrayCreateRequire } from 'node:module'; const require = __xrayCreateRequire(import.meta.url);" },
  entryPoints: { 'cli/xray': 'src-main/cli/main.ts', 'bench/run': 'bench/run.ts' },
  outdir: 'dist',
});

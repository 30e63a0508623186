// Bundles the plain-Node CLI and the React renderer (and, as it is added, the Electron layer) with esbuild.
// Dependencies stay external: node_modules is shipped beside dist/.
import { build } from 'esbuild';
import { cpSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
};

/**
 * commander requires node:child_process as it loads, for subcommands that are
 * separate executables (xray has none); loading it costs every command a few
 * milliseconds, so commander gets a stand-in that loads it on first use.
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[/\\]node_modules[/\\]commander[/\\]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'xray-lazy' } : undefined,
    );
    esbuild.onLoad({ filter: /.*/, namespace: 'xray-lazy' }, () => ({
      contents: "module.exports = { get spawn() { return require('node:child_process').spawn; } };",
      loader: 'js',
    }));
  },
};

// The CLI bundles its pure-JS dependencies: `xray list` starts several times
// faster than when Node resolves and loads each package from node_modules.
// ssh2 stays external (optional native parts). It is one CommonJS file so
// bin/xray can compile it with V8's code cache on Node 20, which has no
// module compile cache (see bin/xray); import.meta.url names the bundle.
await build({
  ...node,
  packages: undefined,
  external: ['ssh2', 'electron'],
  plugins: [lazyChildProcessForCommander],
  format: 'cjs',
  define: { 'import.meta.url': '__xrayBundleUrl' },
  banner: { js: "const __xrayBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  entryPoints: { 'cli/xray': 'src-main/cli/main.ts' },
  outExtension: { '.js': '.cjs' },
  outdir: 'dist',
  minify: true,
});

// Benchmarks (`npm run bench`) load their dependencies from node_modules.
await build({
  ...node,
  format: 'esm',
  entryPoints: { 'bench/run': 'bench/run.ts', 'bench/firewall-proxy': 'bench/firewall-proxy.ts', 'bench/dns-probe': 'bench/dns-probe.ts', 'bench/egress-proxy': 'bench/egress-proxy.ts' },
  outdir: 'dist',
});
// The firewall benchmark's test internet runs its servers from a plain script
// that test/helpers/netlab.ts finds beside itself, so it sits beside the bundle.
cpSync('test/helpers/netlab-server.mjs', 'dist/bench/netlab-server.mjs');

// The Electron main process (ESM) and its preload. Sandboxed preloads can only
// require('electron'), so the preload is CommonJS with everything else bundled in.
await build({
  ...node,
  format: 'esm',
  entryPoints: { 'electron/main': 'src-main/electron/main.ts' },
  outdir: 'dist',
});
await build({
  ...node,
  packages: undefined,
  external: ['electron'],
  format: 'cjs',
  entryPoints: { 'electron/preload': 'src-main/electron/preload.ts' },
  outExtension: { '.js': '.cjs' },
  outdir: 'dist',
});
// Tray and app icons travel with the build so a packaged app finds them beside main.js.
cpSync('assets', 'dist/assets', { recursive: true, filter: (src) => !src.endsWith('.md') });

// The renderer: one classic script and one stylesheet (no inline code, so a
// strict CSP applies), plus index.html, in dist/renderer/.
await build({
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: ['chrome120', 'safari16'],
  entryPoints: { app: 'src-renderer/main.tsx' },
  outdir: 'dist/renderer',
  jsx: 'automatic',
  minify: true,
  sourcemap: 'linked',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
cpSync('src-renderer/index.html', 'dist/renderer/index.html');

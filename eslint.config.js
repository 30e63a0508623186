import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * restrict refuses imports across the lines between runtimes: what a file may
 * import follows from where it runs (docs/ARCHITECTURE.md, "Layers").
 */
const restrict = (files, patterns) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});

const NODE = { group: ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'net', 'http', 'crypto', 'stream', 'url', 'util'], message: 'This code runs where Node is not: no Node modules.' };
const ELECTRON = { group: ['electron'], message: 'Only src-main/electron may import electron.' };
const RENDERER = { group: ['**/src-renderer/**', '**/src-renderer'], message: 'Nothing outside the renderer imports it; shared types live in src-main/shared.' };

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['**/*.{js,mjs,cjs}'], languageOptions: { globals: globals.node } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  restrict(['src-main/shared/**/*.ts'], [
    NODE,
    ELECTRON,
    RENDERER,
    { group: ['../*', '!./*'], message: 'The shared layer imports nothing but itself and zod.' },
  ]),
  restrict(['src-renderer/**/*.{ts,tsx}'], [
    NODE,
    ELECTRON,
    { group: ['**/src-main/*', '!**/src-main/shared', '**/src-main/core/**', '**/src-main/cli/**', '**/src-main/browser/**', '**/src-main/electron/**'], message: 'The renderer reaches Xray only through the shared layer (src-main/shared) and its client.' },
  ]),
  restrict(['src-main/core/**/*.ts'], [
    ELECTRON,
    RENDERER,
    { group: ['**/cli/**', '**/cli', '**/browser/**', '**/browser', '**/electron/**'], message: 'The core is imported by the CLI, browser mode and the app, never the other way round.' },
  ]),
  restrict(['src-main/cli/**/*.ts', 'src-main/browser/**/*.ts'], [
    ELECTRON,
    RENDERER,
    { group: ['**/electron/**'], message: 'The CLI and browser mode never reach into the Electron layer.' },
  ]),
  restrict(['src-main/electron/**/*.ts'], [RENDERER]),
);

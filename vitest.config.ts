import { defineConfig } from 'vitest/config';

export default defineConfig({
  oxc: { jsx: { runtime: "automatic" } },
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // QEMU under TCG needs the CPU; two cores cannot run many guests at once.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});

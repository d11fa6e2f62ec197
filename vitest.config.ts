import { defineConfig } from 'vitest/config';

export default defineConfig({
  // type-graphql loads graphql's CommonJS build; tests must share that one copy of graphql, or its
  // instanceof checks fail ("from another module or realm").
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration suites each start real gateways; on 2 cores running them one file at a time keeps
    // timings honest and start-up quick.
    fileParallelism: false,
    setupFiles: ['test/support/setup.ts'],
    // Worker threads and spawned gateways run compiled JavaScript from dist/: compiled afresh from src
    // before any test, so no test runs stale code.
    globalSetup: ['test/support/build-dist.ts'],
    // The JSON report lets CI print a plain "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // Builds the page once for the browser tests (and says why they are skipped, when they are).
    globalSetup: ['test/support/global-setup.ts'],
    // A browser, an API and perhaps an S3 server start per suite; a test moves 17 MiB through them.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // Integration tests start servers and move a few MiB; the S3 suite may also wait for a container.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

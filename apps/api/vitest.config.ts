import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // The production test makes a `pnpm deploy --prod` copy and starts the built server from it.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});

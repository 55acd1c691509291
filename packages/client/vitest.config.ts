import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Uploads of hundreds of MiB against a real server, and one test builds the package.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The memory test collects garbage before each sample, so it measures what is alive.
    execArgv: ['--expose-gc'],
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});

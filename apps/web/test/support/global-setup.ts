import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { chromiumMissing } from './chromium.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The page as `vite build` made it from the current source; empty when the browser tests are skipped. */
    webRoot: string;
  }
}

const appRoot = fileURLToPath(new URL('../..', import.meta.url));
const clientEntry = fileURLToPath(new URL('../../../../packages/client/dist/index.js', import.meta.url));

/**
 * Builds the page into a temporary folder, so the tests always run today's source and never
 * touch the apps/web/dist that `pnpm start` serves. Vite runs in its own process: Vitest is a
 * Vite server itself, and both read NODE_ENV.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const missing = chromiumMissing();
  if (missing) {
    console.warn(`\n[@s3-service/web] browser tests skipped: ${missing}\n`);
    project.provide('webRoot', '');
    return undefined;
  }
  if (!existsSync(clientEntry)) {
    throw new Error(
      'packages/client/dist is missing: run `pnpm test` from the root (turbo builds it first) or `pnpm --filter @s3-service/client build`',
    );
  }
  const outDir = await mkdtemp(join(tmpdir(), 's3-service-web-'));
  // The bin is not among vite's exports; it sits beside its package.json.
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  await promisify(execFile)(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: appRoot,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  project.provide('webRoot', outDir);
  return () => rm(outDir, { recursive: true, force: true });
}

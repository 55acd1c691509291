import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { chromiumMissing } from '../../../web/test/support/chromium.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The page as `vite build` made it from the current source; empty when the browser tests are skipped. */
    pageRoot: string;
  }
}

const appRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Builds the page (Uppy bundled from npm, as an app would ship it) into a temporary folder, so
 * the tests run today's source. Vite runs in its own process: Vitest is a Vite server itself,
 * and both read NODE_ENV.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const missing = chromiumMissing();
  // CI installs Chromium (.ci/run): there a missing browser is a broken setup, not a reason to skip.
  if (missing && process.env.CI) throw new Error(missing);
  if (missing) {
    console.warn(`\n[@s3-service/uppy-demo] browser tests skipped: ${missing}\n`);
    project.provide('pageRoot', '');
    return undefined;
  }
  const outDir = await mkdtemp(join(tmpdir(), 's3-service-uppy-demo-'));
  // The bin is not among vite's exports; it sits beside its package.json.
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  await promisify(execFile)(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: appRoot,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  project.provide('pageRoot', outDir);
  return () => rm(outDir, { recursive: true, force: true });
}

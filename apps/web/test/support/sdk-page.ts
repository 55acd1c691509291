import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import type { RunReport, SdkPage, StartOptions } from './sdk-page/main.js';
import { type PageServer, servePage } from './serve-page.js';
import { throttleUploads } from './throttle.js';

export type { RunReport, StartOptions };

const pageSource = fileURLToPath(new URL('./sdk-page', import.meta.url));

/**
 * Builds the SDK test page (support/sdk-page: the client package as an app bundles it) with Vite
 * in a process of its own, as global-setup builds the uploader, and serves it at `${url}/app/` on
 * an origin of its own: the API and the store are then other origins, as for a real app.
 */
export async function serveSdkPage(): Promise<PageServer> {
  const outDir = await mkdtemp(join(tmpdir(), 's3-service-sdk-page-'));
  const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  await promisify(execFile)(
    process.execPath,
    [vite, 'build', '--base', '/app/', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
    { cwd: pageSource, env: { ...process.env, NODE_ENV: 'production' } },
  );
  const server = await servePage(outDir);
  return {
    url: server.url,
    close: async () => {
      await server.close();
      await rm(outDir, { recursive: true, force: true });
    },
  };
}

/** The page's `sdkPage` from the test's side. */
export class SdkPageDriver {
  constructor(readonly page: Page) {}

  static async open(page: Page, pageUrl: string): Promise<SdkPageDriver> {
    await page.goto(`${pageUrl}/app/`);
    await page.locator('body[data-ready="true"]').waitFor();
    return new SdkPageDriver(page);
  }

  /** See throttleUploads. */
  throttleUploads(bytesPerSecond: number): Promise<void> {
    return throttleUploads(this.page, bytesPerSecond);
  }

  async start(path: string, options: StartOptions): Promise<number> {
    await this.page.setInputFiles('#file', path);
    return this.page.evaluate((given) => (window as unknown as { sdkPage: SdkPage }).sdkPage.start(given), options);
  }

  report(run: number): Promise<RunReport> {
    return this.page.evaluate((index) => (window as unknown as { sdkPage: SdkPage }).sdkPage.report(index), run);
  }

  resume(run: number): Promise<void> {
    return this.page.evaluate((index) => (window as unknown as { sdkPage: SdkPage }).sdkPage.resume(index), run);
  }

  /** Polls until the run settled, and returns its report. */
  async settled(run: number, timeoutMs = 50_000): Promise<RunReport> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const report = await this.report(run);
      if (report.result || report.error) return report;
      if (Date.now() > deadline) throw new Error(`upload ${run} did not settle in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

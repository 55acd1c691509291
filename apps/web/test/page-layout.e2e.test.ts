import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3ServiceClient } from '@s3-service/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { axeViolations, contextFor, overflowOf, screenshot, type ViewportName } from './support/page-checks.js';
import { type PageServer, servePage } from './support/serve-page.js';
import { type Stack, startLocalStack } from './support/stacks.js';
import { UploaderPage } from './support/uploader-page.js';

const missingBrowser = chromiumMissing();

/** Names without a space to break at: what a camera, a scanner or an export tool calls its files. */
const LONG_TEXT_NAME = `quarterly-report-of-the-northern-region-${'x'.repeat(60)}-final-v3.txt`;
const LONG_HTML_NAME = `a-saved-web-page-from-the-intranet-${'y'.repeat(60)}.html`;
const LONG_OPEN_NAME = `holiday-video-from-the-phone-${'z'.repeat(70)}.mp4`;

/**
 * The page at a phone's width and a laptop's, in each state a person meets: nothing stored yet,
 * a finished upload, a refused one with its error, and a list of assets beside an unfinished
 * upload. In each: no sideways scrolling, nothing past the viewport, and no axe-core violation.
 */
describe.skipIf(missingBrowser !== undefined)('the page at 390 and 1280 px, in Chromium', () => {
  let browser: Browser;
  let pageServer: PageServer;
  let stack: Stack;
  let files: string;

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), 's3-service-web-layout-'));
    await writeFile(join(files, LONG_TEXT_NAME), 'numbers of the quarter\n'.repeat(500));
    await writeFile(join(files, LONG_HTML_NAME), '<!doctype html><p>not an asset</p>');
    [browser, pageServer, stack] = await Promise.all([launchChromium(), servePage(inject('webRoot')), startLocalStack()]);
  });

  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
    await stack?.close();
    if (files) await rm(files, { recursive: true, force: true });
  });

  /** Overflow and axe, on the page as it is; a screenshot to look at, whatever the verdict. */
  async function expectFits(page: Page, viewport: ViewportName, state: string): Promise<void> {
    await screenshot(page, `page-${viewport}-${state}`);
    const overflow = await overflowOf(page);
    expect(overflow.document.scrollWidth, `${state}: the document scrolls sideways`).toBeLessThanOrEqual(overflow.document.clientWidth);
    expect(overflow.containers, `${state}: containers wider than they are`).toEqual([]);
    expect(overflow.outside, `${state}: elements past the viewport`).toEqual([]);
    expect(await axeViolations(page), `${state}: axe-core violations`).toEqual([]);
  }

  it.each(['phone', 'desktop'] as const)(
    'fits the %s and passes axe, empty, after an upload, after a refusal and with assets listed',
    async (viewport) => {
      // A long workspace id (the server allows 128 characters) sits in the list's heading.
      const workspaceId = `team-${randomBytes(20).toString('hex')}`;
      const api = createS3ServiceClient({ url: stack.apiUrl });
      const context = await browser.newContext(contextFor(viewport));
      try {
        const uploader = await UploaderPage.open(context, pageServer.url, { apiUrl: stack.apiUrl, workspaceId });
        const { page } = uploader;
        await page.locator('#assets-status', { hasText: 'No assets in this workspace yet.' }).waitFor();
        await page.locator('#assets-live[data-state="live"]').waitFor();
        await expectFits(page, viewport, 'empty');

        await uploader.pick(join(files, LONG_TEXT_NAME));
        await uploader.waitForState(LONG_TEXT_NAME, 'done');
        await page.locator('#assets-table tbody tr').first().waitFor();
        await expectFits(page, viewport, 'uploaded');

        await uploader.pick(join(files, LONG_HTML_NAME));
        await uploader.waitForState(LONG_HTML_NAME, 'failed');
        await expect(uploader.upload(LONG_HTML_NAME).locator('.upload-error').textContent()).resolves.toContain('FILE_TYPE_NOT_ALLOWED');
        await expectFits(page, viewport, 'refused');

        // More assets, stored by the SDK in Node, and an upload left half-way by another device.
        await Promise.all(
          Array.from({ length: 4 }, (_, index) =>
            api.upload(new TextEncoder().encode(`asset ${index}\n`), {
              workspaceId,
              fileName: `scan-${index}-${'w'.repeat(80)}.txt`,
              fileType: 'text/plain',
            }),
          ),
        );
        await api.trpc.upload.start.mutate({
          workspaceId,
          fileType: 'video/mp4',
          fileName: LONG_OPEN_NAME,
          fileSize: 40 * 1024 * 1024,
          partSize: 8 * 1024 * 1024,
        });
        await page.getByRole('button', { name: 'Refresh' }).click();
        await expect.poll(() => page.locator('#assets-table tbody tr').count()).toBe(5);
        await uploader.unfinished(LONG_OPEN_NAME).waitFor();
        await expectFits(page, viewport, 'listed');
      } finally {
        await context.close();
      }
    },
  );
});

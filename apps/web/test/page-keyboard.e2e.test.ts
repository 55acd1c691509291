import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3ServiceClient } from '@s3-service/client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { contextFor, screenshot } from './support/page-checks.js';
import { type PageServer, servePage } from './support/serve-page.js';
import { type Stack, startLocalStack } from './support/stacks.js';
import { UploaderPage } from './support/uploader-page.js';

const missingBrowser = chromiumMissing();
const MiB = 1024 * 1024;

/** How the drop zone looks when it has the focus: a ring (outline or box shadow) that is really drawn. */
function focusRingOf(page: Page) {
  return page.locator('#dropzone').evaluate((zone) => {
    const style = getComputedStyle(zone);
    return {
      focusInside: zone.contains(document.activeElement),
      outline:
        style.outlineStyle === 'none' || Number.parseFloat(style.outlineWidth) === 0
          ? 'none'
          : `${style.outlineWidth} ${style.outlineColor}`,
      boxShadow: style.boxShadow,
    };
  });
}

/** Presses Tab from the top of the page until the focus is in the drop zone; how many presses it took. */
async function tabToDropZone(page: Page): Promise<number> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  for (let presses = 1; presses <= 20; presses++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.getElementById('dropzone')?.contains(document.activeElement) ?? false)) return presses;
  }
  throw new Error('20 presses of Tab never reached the drop zone');
}

describe.skipIf(missingBrowser !== undefined)('the page with a keyboard, and its Retry, in Chromium', () => {
  let browser: Browser;
  let pageServer: PageServer;
  let stack: Stack;
  let files: string;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), 's3-service-web-keys-'));
    [browser, pageServer, stack] = await Promise.all([launchChromium(), servePage(inject('webRoot')), startLocalStack()]);
  });

  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
    await stack?.close();
    if (files) await rm(files, { recursive: true, force: true });
  });

  async function openPage(viewport: 'phone' | 'desktop' = 'desktop') {
    const workspaceId = `ws-${randomBytes(5).toString('hex')}`;
    context = await browser.newContext(contextFor(viewport));
    const uploader = await UploaderPage.open(context, pageServer.url, { apiUrl: stack.apiUrl, workspaceId });
    await uploader.page.locator('#assets-status', { hasText: 'No assets in this workspace yet.' }).waitFor();
    return { uploader, page: uploader.page, workspaceId, api: createS3ServiceClient({ url: stack.apiUrl }) };
  }

  /** The object's bytes as the API serves them to anyone with the key: through its signed download URL. */
  async function sha256OnServer(api: ReturnType<typeof createS3ServiceClient>, workspaceId: string, key: string): Promise<string> {
    const { url } = await api.downloadUrl({ workspaceId, key });
    const answer = await fetch(url);
    expect(answer.status).toBe(200);
    return createHash('sha256')
      .update(Buffer.from(await answer.arrayBuffer()))
      .digest('hex');
  }

  it('uploads with the keyboard alone: Tab reaches the drop zone, which shows its focus, and Enter (or Space) opens the chooser', async () => {
    const { uploader, page, api, workspaceId } = await openPage();
    // A listener turns Playwright's interception of file choosers on; set before any key is
    // pressed, a chooser that opens quickly is never missed.
    page.on('filechooser', () => {});
    const bytes = randomBytes(3 * MiB);
    const path = join(files, 'typed-in.bin');
    await writeFile(path, bytes);

    // No ring before the keyboard gets there.
    expect((await focusRingOf(page)).outline).toBe('none');
    await tabToDropZone(page);
    const ring = await focusRingOf(page);
    expect(ring.focusInside).toBe(true);
    expect(ring.outline !== 'none' || ring.boxShadow !== 'none').toBe(true);
    await screenshot(page, 'page-desktop-dropzone-focus', { fullPage: false });

    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
    expect(chooser.isMultiple()).toBe(true);
    await chooser.setFiles(path);
    await uploader.waitForState('typed-in.bin', 'done');

    const row = page.locator('#assets-table tbody tr', { hasText: 'typed-in.bin' });
    await row.waitFor();
    const key = (await row.getAttribute('data-key'))!;
    expect(key).toMatch(new RegExp(`^${workspaceId}/digital_assets/`));
    expect(await sha256OnServer(api, workspaceId, key)).toBe(createHash('sha256').update(bytes).digest('hex'));

    // Space does it too, from the same place.
    const other = join(files, 'spaced-out.txt');
    await writeFile(other, 'picked with the space bar\n');
    await tabToDropZone(page);
    const [again] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Space')]);
    await again.setFiles(other);
    await uploader.waitForState('spaced-out.txt', 'done');
  });

  it('offers Retry when the store could not be reached, and the retry stores the same bytes', async () => {
    const { uploader, page, api, workspaceId } = await openPage('phone');
    const bytes = randomBytes(2 * MiB);
    const path = join(files, 'flaky-network.bin');
    await writeFile(path, bytes);

    // Every part PUT to the store is cut, as a dropped connection would be: the SDK's own retries give up.
    await page.route(
      (url) => url.searchParams.has('partNumber'),
      (route) => route.abort('connectionreset'),
    );
    await uploader.pick(path);
    await uploader.waitForState('flaky-network.bin', 'failed');
    const row = uploader.upload('flaky-network.bin');
    expect(await row.locator('.upload-error').textContent()).toContain('NETWORK_ERROR');
    const retry = row.getByRole('button', { name: 'Retry' });
    expect(await retry.isVisible()).toBe(true);
    expect(await page.locator('#upload-announcer').textContent()).toBe('flaky-network.bin: Failed (NETWORK_ERROR)');

    // The network is back: Retry continues the upload the server kept, and the bytes arrive whole.
    await page.unrouteAll();
    await retry.click();
    await uploader.waitForState('flaky-network.bin', 'done');
    expect(await retry.isVisible()).toBe(false);
    const listed = page.locator('#assets-table tbody tr', { hasText: 'flaky-network.bin' });
    await listed.waitFor();
    const key = (await listed.getAttribute('data-key'))!;
    expect(await sha256OnServer(api, workspaceId, key)).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await page.locator('#upload-announcer').textContent()).toMatch(/^flaky-network\.bin: /);
  });

  it('offers no Retry for a file type the server refuses, and says what to do instead', async () => {
    const { uploader, api, workspaceId } = await openPage('phone');
    const path = join(files, 'saved-page.html');
    await writeFile(path, '<!doctype html><p>not an asset</p>');
    await uploader.pick(path);
    await uploader.waitForState('saved-page.html', 'failed');

    const row = uploader.upload('saved-page.html');
    const error = await row.locator('.upload-error').textContent();
    expect(error).toContain('FILE_TYPE_NOT_ALLOWED · HTTP 400');
    expect(error).toContain('Choose a file of another type, or ask for this type to be allowed.');
    // Not merely out of sight: a hidden button is out of the accessibility tree too.
    expect(await row.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    expect(await row.getByRole('button', { name: 'Dismiss' }).isVisible()).toBe(true);
    // Nothing was stored, and nothing is left open.
    expect((await api.trpc.object.list.query({ workspaceId, limit: 10 })).objects).toEqual([]);
    expect((await api.trpc.upload.listOpen.query({ workspaceId, limit: 10 })).uploads).toEqual([]);
  });
});

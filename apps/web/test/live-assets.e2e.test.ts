import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { type PageServer, servePage } from './support/serve-page.js';
import { type Stack, startLocalStack } from './support/stacks.js';
import { UploaderPage } from './support/uploader-page.js';

const missingBrowser = chromiumMissing();

/** The tRPC calls a page makes to list assets: a page that reloaded its list would make one. */
function countListCalls(page: Page): () => number {
  let calls = 0;
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.includes('object.list')) calls += 1;
  });
  return () => calls;
}

describe.skipIf(missingBrowser !== undefined)('the asset list follows the live events, in Chromium', () => {
  let browser: Browser;
  let pageServer: PageServer;
  let stack: Stack;
  let context: BrowserContext;
  let files: string;

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), 's3-service-web-live-'));
    [browser, pageServer, stack] = await Promise.all([launchChromium(), servePage(inject('webRoot')), startLocalStack()]);
    context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await pageServer?.close();
    await stack?.close();
    if (files) await rm(files, { recursive: true, force: true });
  });

  it("shows another tab's upload without a refresh, and takes away what the other tab deleted", async () => {
    const workspaceId = `ws-${randomBytes(5).toString('hex')}`;
    const settings = { apiUrl: stack.apiUrl, workspaceId };
    // Two tabs of one browser: the second reads the settings the first saved.
    const first = await UploaderPage.open(context, pageServer.url, settings);
    const second = await UploaderPage.open(context, pageServer.url, settings);
    for (const tab of [first, second]) await tab.page.locator('#assets-live[data-state="live"]').waitFor();
    const secondListCalls = countListCalls(second.page);

    const path = join(files, 'from-the-other-tab.txt');
    await writeFile(path, 'written in the first tab\n');
    await first.pick(path);
    await first.waitForState('from-the-other-tab.txt', 'done');

    const row = second.page.locator('#assets-table tbody tr', { hasText: 'from-the-other-tab.txt' });
    await row.waitFor({ timeout: 5_000 });
    const key = await row.getAttribute('data-key');
    expect(key).toMatch(new RegExp(`^${workspaceId}/digital_assets/`));
    // At the top, where the newest-first order puts it, counted, and with its actions.
    expect(await second.page.locator('#assets-table tbody tr').first().getAttribute('data-key')).toBe(key);
    expect(await second.page.locator('#assets-status').textContent()).toBe('1 shown.');
    await expect(row.getByRole('button', { name: 'Download' }).isVisible()).resolves.toBe(true);

    // The first tab deletes it (two clicks: arm, confirm); the second tab's row goes.
    const ownRow = first.asset(key!);
    await ownRow.getByRole('button', { name: 'Delete' }).click();
    await ownRow.getByRole('button', { name: 'Confirm delete' }).click();
    await second.asset(key!).waitFor({ state: 'detached', timeout: 5_000 });
    expect(await second.page.locator('#assets-status').textContent()).toBe('No assets in this workspace yet.');

    // All of it came from the stream: the second tab never listed the assets again.
    expect(secondListCalls()).toBe(0);
    expect(await second.page.locator('#assets-live').getAttribute('data-state')).toBe('live');
  });
});

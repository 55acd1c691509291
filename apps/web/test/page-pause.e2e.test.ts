import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3ServiceClient } from '@s3-service/client';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { axeViolations, contextFor, overflowOf, screenshot } from './support/page-checks.js';
import { type PageServer, servePage } from './support/serve-page.js';
import { type Stack, startLocalStack } from './support/stacks.js';
import { UploaderPage } from './support/uploader-page.js';

const missingBrowser = chromiumMissing();
const MiB = 1024 * 1024;
/** Three parts of the page's 8 MiB: 8 + 8 + 4. */
const SIZE = 20 * MiB;

describe.skipIf(missingBrowser !== undefined)("an upload row's Pause and Resume on a phone, in Chromium", () => {
  let browser: Browser;
  let pageServer: PageServer;
  let stack: Stack;
  let context: BrowserContext;
  let files: string;

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), 's3-service-web-pause-'));
    [browser, pageServer, stack] = await Promise.all([launchChromium(), servePage(inject('webRoot')), startLocalStack()]);
    context = await browser.newContext(contextFor('phone'));
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await pageServer?.close();
    await stack?.close();
    if (files) await rm(files, { recursive: true, force: true });
  });

  it('pauses mid-upload (no part is sent while paused), resumes, and shows the name and key the server stored', async () => {
    const workspaceId = `ws-${randomBytes(5).toString('hex')}`;
    const name = `voice-memo-${'m'.repeat(60)}.bin`;
    const bytes = randomBytes(SIZE);
    await writeFile(join(files, name), bytes);
    const uploader = await UploaderPage.open(context, pageServer.url, { apiUrl: stack.apiUrl, workspaceId });
    const { page } = uploader;
    const row = uploader.upload(name);

    // The last part waits at the gate: the upload is seen running with two parts stored.
    const { gate } = stack;
    gate.hold(3);
    const storedBefore = gate.storedParts.length;
    await uploader.pick(join(files, name));
    await gate.waitForStoredParts(storedBefore + 2);
    await uploader.waitForState(name, 'uploading');
    await row.getByRole('button', { name: 'Pause' }).click();
    await uploader.waitForState(name, 'paused');
    // Paused, the held PUT was cut by the page; nothing is held any more, and nothing new is sent.
    gate.release();
    const putsWhilePaused = uploader.partPuts.length;
    await page.waitForTimeout(1000);
    expect(uploader.partPuts.length).toBe(putsWhilePaused);
    // Paused is not cancelled: the server keeps the upload open with the parts it has.
    const api = createS3ServiceClient({ url: stack.apiUrl });
    const [open] = (await api.listOpen({ workspaceId })).uploads;
    expect(open).toMatchObject({ fileName: name, fileSize: SIZE });
    expect(open!.partsDone).toBeGreaterThanOrEqual(2);
    expect(await row.locator('.upload-state').textContent()).toBe('Paused');
    expect(await row.getByRole('button', { name: 'Resume' }).isVisible()).toBe(true);
    expect(await row.getByRole('button', { name: 'Cancel' }).isVisible()).toBe(true);
    expect(await row.getByRole('button', { name: 'Pause' }).count()).toBe(0);
    await expect(page.locator('#upload-announcer').textContent()).resolves.toBe(`${name}: Paused`);

    // The paused row fits the phone and passes axe like the rest of the page.
    await screenshot(page, 'page-phone-paused');
    const overflow = await overflowOf(page);
    expect(overflow.document.scrollWidth).toBeLessThanOrEqual(overflow.document.clientWidth);
    expect(overflow.containers).toEqual([]);
    expect(overflow.outside).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);

    await row.getByRole('button', { name: 'Resume' }).click();
    await uploader.waitForState(name, 'done');
    // Only the part cut by the pause may go again, once; whether it must depends on a race the
    // test cannot fix: the held PUT, released after the pause, may already have had its whole
    // body in flight and be stored (the page then keeps it), or be cut and sent again on resume.
    const resent = uploader.partPuts.slice(putsWhilePaused);
    expect(resent.filter((partNumber) => partNumber !== 3)).toEqual([]);
    expect(resent.length).toBeLessThanOrEqual(1);

    // The row names the file as the server's catalogue does, and carries the key it is stored under.
    const key = await row.getAttribute('data-key');
    expect(key).toMatch(new RegExp(`^${workspaceId}/digital_assets/`));
    expect(await row.locator('.upload-name').textContent()).toBe(name);
    expect(await row.locator('.upload-name').getAttribute('title')).toBe(`${name}\n${key}`);
    const { body } = await stack.store.getObject(key!);
    const hash = createHash('sha256');
    for await (const chunk of body) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect((await api.listOpen({ workspaceId })).uploads).toEqual([]);
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3ServiceClient } from '@s3-service/client';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { type PageServer, servePage } from './support/serve-page.js';
import { type Stack, startLocalStack } from './support/stacks.js';
import { throttleUploads } from './support/throttle.js';
import { UploaderPage } from './support/uploader-page.js';

const MiB = 1024 * 1024;
/** Three parts of the page's 8 MiB, all on the wire at once: 8 + 8 + 4. */
const SIZE = 20 * MiB;

const missingBrowser = chromiumMissing();

describe.skipIf(missingBrowser !== undefined)("the uploader page's Pause and Resume, on the SDK's upload handle", () => {
  let browser: Browser;
  let pageServer: PageServer;
  let stack: Stack;
  let files: string;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), 's3-service-web-pause-'));
    [browser, pageServer, stack] = await Promise.all([launchChromium(), servePage(inject('webRoot')), startLocalStack()]);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await pageServer?.close();
    await stack?.close();
    if (files) await rm(files, { recursive: true, force: true });
  });

  it('pauses with the upload kept open on the server, then resumes sending only the parts the pause cut', async () => {
    const bytes = randomBytes(SIZE);
    const path = join(files, 'holiday.mov');
    await writeFile(path, bytes);
    const workspaceId = `ws-${randomBytes(5).toString('hex')}`;
    context = await browser.newContext();
    const uploader = await UploaderPage.open(context, pageServer.url, { apiUrl: stack.apiUrl, workspaceId });
    const row = uploader.upload('holiday.mov');
    await throttleUploads(uploader.page, 2 * MiB);
    const { gate } = stack;
    const storedBefore = gate.storedParts.length;

    await uploader.pick(path);
    // The short third part is stored first; the two 8 MiB parts are still on the wire.
    await gate.waitForStoredParts(storedBefore + 1);
    await row.getByRole('button', { name: 'Pause' }).click();
    await uploader.waitForState('holiday.mov', 'paused');
    const percentAtPause = await uploader.percent('holiday.mov');
    expect(percentAtPause).toBeGreaterThan(0);
    expect(percentAtPause).toBeLessThan(100);

    // Nothing goes out while paused, and the server keeps the upload with what it has.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const putsAtPause = uploader.partPuts.length;
    const storedAtPause = gate.storedParts.slice(storedBefore).sort();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(uploader.partPuts).toHaveLength(putsAtPause);
    expect(gate.storedParts.slice(storedBefore).sort()).toEqual(storedAtPause);
    expect(storedAtPause).toContain(3);
    const api = createS3ServiceClient({ url: stack.apiUrl });
    const [open] = (await api.listOpen({ workspaceId })).uploads;
    expect(open).toMatchObject({ fileName: 'holiday.mov', fileSize: SIZE, partsDone: storedAtPause.length });
    // The bar does not go back while paused.
    expect(await uploader.percent('holiday.mov')).toBe(percentAtPause);
    expect(await row.getByRole('button', { name: 'Resume' }).isVisible()).toBe(true);
    expect(await row.getByRole('button', { name: 'Cancel' }).isVisible()).toBe(true);

    await row.getByRole('button', { name: 'Resume' }).click();
    await uploader.waitForState('holiday.mov', 'done');
    expect(await uploader.percent('holiday.mov')).toBe(100);

    const putsOf = (partNumber: number) => uploader.partPuts.filter((put) => put === partNumber).length;
    for (const partNumber of [1, 2, 3]) expect(putsOf(partNumber)).toBe(storedAtPause.includes(partNumber) ? 1 : 2);
    const { objects } = await stack.store.listObjects(`${workspaceId}/digital_assets/`, { limit: 10 });
    expect(objects).toHaveLength(1);
    const stored = await stack.store.getObject(objects[0]!.key);
    const hash = createHash('sha256');
    for await (const chunk of stored.body) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect((await api.listOpen({ workspaceId })).uploads).toEqual([]);
  }, 90_000);
});

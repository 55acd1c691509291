import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLocalStore } from '../../../packages/server/src/storage/local/index.js';
import { expireFirstPartUrls } from '../../../packages/server/test/support/expiring-part-urls.js';
import { startServer, type TestServer } from '../../../packages/server/test/support/server.js';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { type PageServer, servePage } from './support/serve-page.js';
import { UploaderPage } from './support/uploader-page.js';

const MiB = 1024 * 1024;
/** Three parts of the page's 8 MiB: every refused body is bigger than a socket buffer. */
const SIZE = 20 * MiB;

const missingBrowser = chromiumMissing();

/**
 * The browser talks to the local store's signed URLs directly (no gate in between), so what
 * Chromium sees is what the server's socket does: a 403 it can read, or a reset.
 */
describe.skipIf(missingBrowser !== undefined)('expired part URLs of the local store, in Chromium', () => {
  let browser: Browser;
  let pageServer: PageServer;
  let server: TestServer;
  let store: ReturnType<typeof expireFirstPartUrls>;
  let files: string;

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), 's3-service-web-expiry-'));
    server = await startServer(async (publicUrl) => {
      const dir = await mkdtemp(join(tmpdir(), 's3-service-web-expiry-store-'));
      store = expireFirstPartUrls(await createLocalStore({ dir, publicUrl }));
      return { store, close: () => rm(dir, { recursive: true, force: true }) };
    });
    // The page is another origin: the signed URLs need the bucket's CORS rules.
    const cors = await fetch(`${server.url}/s3/updateBucketConfig`, { method: 'POST' });
    expect(cors.status).toBe(200);
    [browser, pageServer] = await Promise.all([launchChromium(), servePage(inject('webRoot'))]);
  });

  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
    await server?.close();
    if (files) await rm(files, { recursive: true, force: true });
  });

  it('reads the 403 INVALID_SIGNATURE of every expired part PUT, re-signs and stores the file', async () => {
    const bytes = randomBytes(SIZE);
    const path = join(files, 'clip.bin');
    await writeFile(path, bytes);
    const context = await browser.newContext();
    try {
      const uploader = await UploaderPage.open(context, pageServer.url, { apiUrl: server.url, workspaceId: 'ws-expiry' });
      const answers: Array<{ partNumber: number; status: number; code?: string }> = [];
      const failures: string[] = [];
      uploader.page.on('response', async (response) => {
        if (response.request().method() !== 'PUT') return;
        const partNumber = Number(new URL(response.url()).searchParams.get('partNumber'));
        const code = response.status() === 403 ? ((await response.json()) as { code: string }).code : undefined;
        answers.push({ partNumber, status: response.status(), ...(code ? { code } : {}) });
      });
      uploader.page.on('requestfailed', (request) => {
        if (request.method() === 'PUT') failures.push(request.failure()?.errorText ?? 'failed');
      });

      await uploader.pick(path);
      await uploader.waitForState('clip.bin', 'done');

      expect(store.expiredBatches()).toBe(1);
      // No PUT failed on the network: each expired URL was answered, then signed again.
      expect(failures).toEqual([]);
      await expect.poll(() => answers.filter((answer) => answer.status === 200).length).toBe(3);
      const byPart = (status: number) =>
        answers
          .filter((answer) => answer.status === status)
          .map((answer) => answer.partNumber)
          .sort();
      // The parts in flight together all met their expiry; which ones is the page's concurrency.
      expect(byPart(403).length).toBeGreaterThanOrEqual(1);
      expect(byPart(200)).toEqual([1, 2, 3]);
      expect(answers.filter((answer) => answer.status === 403).every((answer) => answer.code === 'INVALID_SIGNATURE')).toBe(true);

      const { objects } = await server.store.listObjects('ws-expiry/digital_assets/', { limit: 10 });
      expect(objects).toHaveLength(1);
      const stored = await server.store.getObject(objects[0]!.key);
      const hash = createHash('sha256');
      for await (const chunk of stored.body) hash.update(chunk as Buffer);
      expect(hash.digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    } finally {
      await context.close();
    }
  });
});

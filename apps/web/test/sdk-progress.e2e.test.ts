import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3ServiceClient } from '@s3-service/client';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium } from './support/chromium.js';
import { type RunReport, SdkPageDriver, serveSdkPage } from './support/sdk-page.js';
import type { PageServer } from './support/serve-page.js';
import { type Stack, startLocalStack } from './support/stacks.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** The promise of the SDK's browser progress: a report at least every 256 KiB of a part. */
const MAX_GAP = 256 * KiB;

const missingBrowser = chromiumMissing();

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Every step between two reports (the first from 0), for the gap and monotony checks. */
function steps(report: RunReport): number[] {
  return report.progress.map((progress, index) => progress.loaded - (report.progress[index - 1]?.loaded ?? 0));
}

describe.skipIf(missingBrowser !== undefined)('the SDK in Chromium: byte progress, pause and resume', () => {
  let browser: Browser;
  let pageServer: PageServer;
  let stack: Stack;
  let files: string;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    files = await mkdtemp(join(tmpdir(), 's3-service-sdk-files-'));
    [browser, pageServer, stack] = await Promise.all([launchChromium(), serveSdkPage(), startLocalStack()]);
  });

  afterEach(async () => {
    await context?.close();
    context = undefined;
    stack?.gate.cutHeld();
  });

  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
    await stack?.close();
    if (files) await rm(files, { recursive: true, force: true });
  });

  async function openPage(): Promise<SdkPageDriver> {
    context = await browser.newContext();
    return SdkPageDriver.open(await context.newPage(), pageServer.url);
  }

  async function writeFileOf(name: string, size: number): Promise<{ path: string; bytes: Buffer }> {
    const bytes = randomBytes(size);
    const path = join(files, name);
    await writeFile(path, bytes);
    return { path, bytes };
  }

  /** The stored object's bytes, read from the store the API wrote them to. */
  async function storedHash(key: string): Promise<string> {
    const object = await stack.store.getObject(key);
    const hash = createHash('sha256');
    for await (const chunk of object.body) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  it('reports bytes at least every 256 KiB while parts are on the wire, never going back, ending at the total', async () => {
    const size = 12 * MiB + 345 * KiB;
    const file = await writeFileOf('progress.bin', size);
    const sdk = await openPage();
    await sdk.throttleUploads(MiB);
    const run = await sdk.start(file.path, { apiUrl: stack.apiUrl, workspaceId: 'ws-sdk-progress' });
    const report = await sdk.settled(run);

    expect(report.error).toBeUndefined();
    expect(report.result!.size).toBe(size);
    expect(await storedHash(report.result!.key)).toBe(sha256(file.bytes));
    const gaps = steps(report);
    expect(gaps.every((gap) => gap >= 0)).toBe(true);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(MAX_GAP);
    // Bytes, not parts: far more reports than the two parts (8 MiB + the rest).
    expect(report.progress.length).toBeGreaterThanOrEqual(size / MAX_GAP);
    expect(report.progress.at(-1)).toEqual({ loaded: size, total: size });
    expect(report.retries).toEqual([]);
  });

  it('pauses mid-part and resumes: the stored parts are kept, the cut ones sent again, the same bytes stored', async () => {
    const size = 16 * MiB;
    const partSize = 5 * MiB;
    const file = await writeFileOf('paused.bin', size);
    const sdk = await openPage();
    const putsPerPart = new Map<number, number>();
    sdk.page.on('request', (request) => {
      const partNumber = Number(new URL(request.url()).searchParams.get('partNumber'));
      if (request.method() === 'PUT' && partNumber) putsPerPart.set(partNumber, (putsPerPart.get(partNumber) ?? 0) + 1);
    });
    await sdk.throttleUploads(2 * MiB);
    const workspaceId = 'ws-sdk-pause';
    // The gate serves the whole suite: this test's parts are those stored from now on.
    const storedBefore = stack.gate.storedParts.length;
    const storedNow = () => stack.gate.storedParts.slice(storedBefore).sort();
    // Two at a time: parts 1 and 2 are stored near 10 MiB, then parts 3 and 4 are on the wire.
    const run = await sdk.start(file.path, { apiUrl: stack.apiUrl, workspaceId, partSize, concurrency: 2, pauseAt: 11 * MiB });
    await expect.poll(async () => (await sdk.report(run)).paused, { timeout: 30_000 }).toBe(true);
    await expect.poll(async () => (await sdk.report(run)).retries.length, { timeout: 10_000 }).toBeGreaterThan(0);

    // Paused: nothing more is stored, and the server keeps the upload with the parts it has.
    const storedAtPause = storedNow();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(storedNow()).toEqual(storedAtPause);
    expect(storedAtPause).toEqual([1, 2]);
    const api = createS3ServiceClient({ url: stack.apiUrl });
    const [open] = (await api.listOpen({ workspaceId })).uploads;
    expect(open).toMatchObject({ fileName: 'paused.bin', fileSize: size });
    const { parts } = await api.trpc.upload.listParts.query({ workspaceId, uploadId: open!.uploadId, assetId: open!.assetId });
    expect(parts.map((part) => part.partNumber)).toEqual([1, 2]);
    const paused = await sdk.report(run);
    expect(paused.retries.every((retry) => retry.reason === 'paused' && retry.partNumber >= 3)).toBe(true);

    await sdk.resume(run);
    const report = await sdk.settled(run);
    expect(report.error).toBeUndefined();
    expect(report.result).toMatchObject({ size, uploadId: open!.uploadId });
    expect(await storedHash(report.result!.key)).toBe(sha256(file.bytes));
    // Parts stored before the pause went once; those it cut went again.
    expect(putsPerPart.get(1)).toBe(1);
    expect(putsPerPart.get(2)).toBe(1);
    for (const retry of paused.retries) expect(putsPerPart.get(retry.partNumber)).toBe(2);
    expect(steps(report).every((gap) => gap >= 0)).toBe(true);
    expect(report.progress.at(-1)).toEqual({ loaded: size, total: size });
    expect((await api.listOpen({ workspaceId })).uploads).toEqual([]);
  });
});

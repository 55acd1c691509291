import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { type PartRetry, S3ServiceError, type UploadHandle, type UploadStart } from '../src/index.js';
import {
  downloadedHash,
  expectedHash,
  progressRecorder,
  spiedClient,
  startLocalServer,
  type TestServer,
  withLocalServer,
} from './support/client.js';
import { MiB, randomData } from './support/data.js';
import { countProcedures, type FetchSpy } from './support/fetch-spy.js';

const workspaceId = 'client-pause';
const partSize = 5 * MiB;

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `condition` holds, checking every few ms (a bounded wait, not a sleep). */
async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await wait(5);
  }
}

/** How many PUTs of each part the spy saw, and how many the store answered with 2xx. */
function putsPerPart(spy: FetchSpy, stored = false): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const put of stored ? spy.storedPuts : spy.puts) counts[put.partNumber] = (counts[put.partNumber] ?? 0) + 1;
  return counts;
}

describe('pausing and resuming an upload', () => {
  let server: TestServer;
  withLocalServer((started) => {
    server = started;
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('pauses mid-part: the upload stays open with its stored parts, nothing is sent, and resume sends only what is missing', async () => {
    const data = randomData(4 * partSize + 321);
    const { client, spy } = spiedClient(server);
    const progress = progressRecorder();
    const retries: PartRetry[] = [];
    let started: UploadStart | undefined;
    let part3Reports = 0;
    const handle: UploadHandle = client.upload(data, {
      workspaceId,
      partSize,
      concurrency: 2,
      onStart: (start) => {
        started = start;
      },
      onRetry: (retry) => void retries.push(retry),
      onProgress: (report) => {
        progress.onProgress(report);
        // Part 3 goes once one of the first two is stored: pause it when 1.25 MiB of it are out (64 KiB a report).
        if (report.part === 3 && ++part3Reports === 20) handle.pause();
      },
    });
    expect(handle).toBeInstanceOf(Promise);
    await until(() => handle.paused);

    // PUTs cut by the pause settle; then nothing more goes out, however long the pause lasts.
    await until(() => retries.some((retry) => retry.partNumber === 3));
    await wait(200);
    const putsWhilePaused = spy.puts.length;
    const storedWhilePaused = spy.storedPuts.map((put) => put.partNumber).sort();
    await wait(500);
    expect(spy.puts).toHaveLength(putsWhilePaused);
    expect(handle.paused).toBe(true);

    // The server still has the upload, with exactly the parts stored before the pause.
    const ref = { workspaceId, uploadId: started!.uploadId, assetId: started!.assetId };
    const listed = await client.trpc.upload.listParts.query(ref);
    expect(listed.parts.map((part) => part.partNumber).sort()).toEqual(storedWhilePaused);
    expect(storedWhilePaused.length).toBeGreaterThanOrEqual(1);
    expect(storedWhilePaused).not.toContain(3);
    const open = await client.listOpen({ workspaceId });
    expect(open.uploads.map((upload) => upload.uploadId)).toContain(started!.uploadId);

    // The pause is told as a retry of the part it cut, which `loaded` already counted.
    const cut = retries.find((retry) => retry.partNumber === 3)!;
    expect(cut).toMatchObject({ partNumber: 3, attempt: 2, reason: 'paused', delayMs: 0 });
    expect(cut.error).toBeUndefined();
    expect(cut.resending).toBeGreaterThan(MiB);

    handle.resume();
    expect(handle.paused).toBe(false);
    const result = await handle;
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));

    // Every part was stored once; the ones stored before the pause were never sent again.
    expect(putsPerPart(spy, true)).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1, 5: 1 });
    const perPart = putsPerPart(spy);
    for (const partNumber of storedWhilePaused) expect(perPart[partNumber]).toBe(1);
    expect(perPart[3]).toBe(2);
    expect(progress.isMonotone()).toBe(true);
    expect(progress.last()).toEqual({ loaded: data.byteLength, total: data.byteLength });
  });

  it('pauses before the first part: the upload is started, nothing is sent until resume', async () => {
    const data = randomData(2 * partSize);
    const { client, spy } = spiedClient(server);
    const starts: UploadStart[] = [];
    const handle = client.upload(new Blob([data]), { workspaceId, partSize, onStart: (start) => void starts.push(start) });
    handle.pause();
    handle.pause();
    expect(handle.paused).toBe(true);
    await until(() => starts.length === 1);
    await wait(300);
    expect(spy.puts).toEqual([]);
    handle.resume();
    const result = await handle;
    expect(putsPerPart(spy)).toEqual({ 1: 1, 2: 1 });
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    // Settled: the switch does nothing any more.
    handle.pause();
    expect(handle.paused).toBe(true);
    handle.resume();
  });

  it('aborting a paused upload aborts it on the server and rejects with an AbortError', async () => {
    const data = randomData(3 * partSize);
    const { client, spy } = spiedClient(server);
    const controller = new AbortController();
    let started: UploadStart | undefined;
    const handle = client.upload(data, {
      workspaceId,
      partSize,
      concurrency: 1,
      signal: controller.signal,
      onStart: (start) => {
        started = start;
      },
    });
    await until(() => spy.storedPuts.length === 1);
    handle.pause();
    await wait(100);
    controller.abort();
    await expect(handle).rejects.toMatchObject({ name: 'AbortError' });
    const ref = { workspaceId, uploadId: started!.uploadId, assetId: started!.assetId };
    const listed = await client.trpc.upload.listParts.query(ref).catch((error: unknown) => error);
    expect(listed).toMatchObject({ data: { code: 'INVALID_UPLOAD_ID' } });
    const open = await client.listOpen({ workspaceId });
    expect(open.uploads.map((upload) => upload.uploadId)).not.toContain(started!.uploadId);
  });

  it('re-signs on resume the part URLs that expired during a long pause, before using them', async () => {
    // Only Date is faked: the store's clock (read per call) and the client's move two hours on together; timers stay real.
    const clocked = await startLocalServer({ now: () => Date.now() });
    onTestFinished(() => clocked.close());
    vi.useFakeTimers({ toFake: ['Date'] });
    const data = randomData(3 * partSize);
    const { client, spy } = spiedClient(clocked);
    const retries: PartRetry[] = [];
    let handle: UploadHandle | undefined;
    handle = client.upload(data, {
      workspaceId,
      partSize,
      concurrency: 1,
      onRetry: (retry) => void retries.push(retry),
      onProgress: (report) => {
        if (report.part === 2 && !handle!.paused && retries.length === 0) handle!.pause();
      },
    });
    await until(() => retries.length === 1);
    const signCallsBefore = countProcedures(spy, 'upload.signParts');
    vi.setSystemTime(Date.now() + 2 * 3600_000);
    handle.resume();
    const result = await handle;
    vi.useRealTimers();
    // Part 2's URL (signed before the pause) and part 3's were signed again, and no PUT met a refusal.
    expect(countProcedures(spy, 'upload.signParts')).toBeGreaterThan(signCallsBefore);
    expect(retries.map((retry) => retry.reason)).toEqual(['paused']);
    expect(spy.puts.length).toBe(spy.storedPuts.length + 1);
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
  });
});

describe('progress through retried parts', () => {
  let server: TestServer;
  withLocalServer((started) => {
    server = started;
  });
  const retryDelay = { initialMs: 40, maxMs: 80 };

  it('holds `loaded` while a part cut half-way is sent again, and reports the retry with its error and delay', async () => {
    const data = randomData(3 * partSize + 7);
    // Part 2's first PUT breaks off after 3 MiB of its body have gone out.
    let part2Puts = 0;
    const { client, spy } = spiedClient(server, (put) =>
      put.partNumber === 2 && part2Puts++ === 0 ? { kind: 'cut', after: 3 * MiB } : undefined,
    );
    const progress = progressRecorder();
    const retries: PartRetry[] = [];
    const result = await client.upload(data, {
      workspaceId,
      partSize,
      retryDelay,
      concurrency: 2,
      onProgress: progress.onProgress,
      onRetry: (retry) => void retries.push(retry),
    });
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    expect(putsPerPart(spy)).toEqual({ 1: 1, 2: 2, 3: 1, 4: 1 });
    expect(retries).toHaveLength(1);
    const [retry] = retries;
    expect(retry).toMatchObject({ partNumber: 2, attempt: 2, reason: 'failed', error: { code: 'NETWORK_ERROR', partNumber: 2 } });
    expect(retry!.error).toBeInstanceOf(S3ServiceError);
    expect(retry!.delayMs).toBeGreaterThanOrEqual(retryDelay.initialMs / 2);
    expect(retry!.delayMs).toBeLessThanOrEqual(retryDelay.initialMs);
    expect(retry!.resending).toBeGreaterThanOrEqual(3 * MiB);
    expect(progress.isMonotone()).toBe(true);
    expect(progress.last()).toEqual({ loaded: data.byteLength, total: data.byteLength });
  });

  it('reports each attempt of a part the store answers 503, then an expired URL that is signed afresh', async () => {
    const data = randomData(partSize + 1);
    const faults = [
      { kind: 'status', status: 503 },
      { kind: 'status', status: 403, body: JSON.stringify({ error: 'expired', code: 'INVALID_SIGNATURE' }) },
    ] as const;
    const { client, spy } = spiedClient(server, (put) => (put.partNumber === 1 ? faults[put.index] : undefined));
    const retries: PartRetry[] = [];
    const progress = progressRecorder();
    const result = await client.upload(data, {
      workspaceId,
      partSize,
      retryDelay,
      concurrency: 1,
      checksum: false,
      onRetry: (retry) => void retries.push(retry),
      onProgress: progress.onProgress,
    });
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    expect(
      retries.map(({ partNumber, attempt, reason, error }) => ({ partNumber, attempt, reason, code: error?.code, status: error?.status })),
    ).toEqual([
      { partNumber: 1, attempt: 2, reason: 'failed', code: 'S3_ERROR', status: 503 },
      { partNumber: 1, attempt: 3, reason: 'expired', code: 'INVALID_SIGNATURE', status: 403 },
    ]);
    expect(retries[1]!.delayMs).toBe(0);
    expect(spy.puts.filter((put) => put.partNumber === 1)).toHaveLength(3);
    expect(progress.isMonotone()).toBe(true);
  });

  it("a listener's exception does not break the upload", async () => {
    const { client } = spiedClient(server, (put) => (put.index === 0 ? { kind: 'network' } : undefined));
    const thrown: unknown[] = [];
    const onError = (error: unknown) => void thrown.push(error);
    process.on('uncaughtException', onError);
    try {
      const data = randomData(1000);
      const result = await client.upload(data, {
        workspaceId,
        retryDelay,
        onRetry: () => {
          throw new Error('listener bug');
        },
      });
      expect(result.size).toBe(1000);
      await wait(10);
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(thrown).toMatchObject([{ message: 'listener bug' }]);
  });
});

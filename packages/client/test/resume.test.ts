import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type S3ServiceClient, UploadError, type UploadStart } from '../src/index.js';
import { downloadedHash, expectedHash, progressRecorder, spiedClient, type TestServer, withLocalServer } from './support/client.js';
import { MiB, randomData } from './support/data.js';

const workspaceId = 'client-resume';
const partSize = 5 * MiB;

describe('resuming an upload', () => {
  let server: TestServer;
  let client: S3ServiceClient;
  withLocalServer((started, plain) => {
    server = started;
    client = plain;
  });

  it('after a crash, sends only the parts the server does not have', async () => {
    const data = randomData(6 * partSize + 777);
    // The "crash": after three parts are stored the network is gone for good. (One part at a
    // time, so that exactly three are stored: a failure cancels the PUTs still in flight.)
    const { client: crashing, spy: crashed } = spiedClient(server, (put) => (put.index >= 3 ? { kind: 'network' } : undefined));
    const failure = await crashing.upload(data, { workspaceId, partSize, retries: 0, concurrency: 1 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UploadError);
    const { uploadId, assetId } = failure as UploadError;
    expect({ uploadId, assetId }).toEqual({ uploadId: crashed.started[0]!.uploadId, assetId: crashed.started[0]!.assetId });

    const before = await client.trpc.upload.listParts.query({ workspaceId, uploadId: uploadId!, assetId: assetId! });
    expect(before.parts.length).toBe(3);

    const { client: healthy, spy } = spiedClient(server);
    const progress = progressRecorder();
    const result = await healthy.upload(data, {
      workspaceId,
      partSize,
      resume: { uploadId: uploadId!, assetId: assetId! },
      onProgress: progress.onProgress,
    });
    expect(spy.puts.map((put) => put.partNumber).sort((a, b) => a - b)).toEqual([4, 5, 6, 7]);
    expect(spy.started).toEqual([]);
    expect(result).toMatchObject({ uploadId, assetId, size: data.byteLength });
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
    // The parts already there count as loaded; the total is reached all the same.
    expect(progress.reports[0]!.loaded).toBeGreaterThanOrEqual(partSize);
    // ... and say so: a speed shown counts only the bytes that went out.
    const kept = progress.reports.filter((report) => report.kept).map((report) => report.part);
    expect(kept.sort((a, b) => a! - b!)).toEqual([1, 2, 3]);
    expect(progress.isMonotone()).toBe(true);
    expect(progress.last()).toEqual({ loaded: data.byteLength, total: data.byteLength });
  });

  it("sends again a stored part of the right size whose bytes are another file's (its checksum differs)", async () => {
    const first = randomData(3 * partSize);
    const { client: crashing } = spiedClient(server, (put) => (put.index >= 2 ? { kind: 'network' } : undefined));
    const failure = (await crashing
      .upload(first, { workspaceId, partSize, retries: 0, concurrency: 1 })
      .catch((error: unknown) => error)) as UploadError;
    expect(failure).toBeInstanceOf(UploadError);
    // Another file of the same size and name resumes the upload: part 1 matches by size only.
    const second = Buffer.concat([randomData(partSize), first.subarray(partSize)]);
    const { client: resuming, spy } = spiedClient(server);
    const result = await resuming.upload(second, {
      workspaceId,
      partSize,
      resume: { uploadId: failure.uploadId!, assetId: failure.assetId! },
    });
    // Part 2 holds the same bytes and is kept; part 1 (other bytes) and part 3 (missing) are sent.
    expect(spy.puts.map((put) => put.partNumber).sort((a, b) => a - b)).toEqual([1, 3]);
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(second));
  });

  it('sends again a stored part whose size is not the expected one', async () => {
    const data = randomData(2 * partSize + 500);
    const started = await client.trpc.upload.start.mutate({ workspaceId, fileType: 'application/octet-stream' });
    const ref = { workspaceId, uploadId: started.uploadId, assetId: started.assetId };
    const signed = await client.trpc.upload.signParts.mutate({ ...ref, partNumbers: [1, 3] });
    const [part1, part3] = signed.parts;
    // Part 1 right, part 2 missing, part 3 cut short (100 of its 500 bytes).
    expect((await fetch(part1!.url, { method: 'PUT', body: data.slice(0, partSize) })).status).toBe(200);
    expect((await fetch(part3!.url, { method: 'PUT', body: data.slice(2 * partSize, 2 * partSize + 100) })).status).toBe(200);

    const { client: resuming, spy } = spiedClient(server);
    const result = await resuming.upload(new Blob([data]), { workspaceId, partSize, resume: ref });
    expect(spy.puts.map((put) => put.partNumber).sort((a, b) => a - b)).toEqual([2, 3]);
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
  });

  it('resumes a stream: stored parts are read past, not sent', async () => {
    const data = randomData(3 * partSize + 1);
    const { client: crashing } = spiedClient(server, (put) => (put.partNumber >= 3 ? { kind: 'status', status: 400 } : undefined));
    const failure = (await crashing
      .upload(data, { workspaceId, partSize, concurrency: 1 })
      .catch((error: unknown) => error)) as UploadError;
    expect(failure).toMatchObject({ code: 'UPLOAD_FAILED', partNumber: 3 });

    const { client: healthy, spy } = spiedClient(server);
    const stream = Readable.from([Buffer.from(data.subarray(0, 7 * MiB)), Buffer.from(data.subarray(7 * MiB))]);
    const result = await healthy.upload(stream, {
      workspaceId,
      partSize,
      resume: { uploadId: failure.uploadId!, assetId: failure.assetId! },
    });
    expect(spy.puts.map((put) => put.partNumber).sort((a, b) => a - b)).toEqual([3, 4]);
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
  });

  it('hands onStart what a resume needs before the first part is sent, and a resume from it finishes the upload', async () => {
    const data = randomData(3 * partSize + 123);
    const { client: crashing, spy: crashed } = spiedClient(server, (put) => (put.index >= 1 ? { kind: 'network' } : undefined));
    const announced: { start: UploadStart; putsSoFar: number }[] = [];
    const failure = await crashing
      .upload(data, {
        workspaceId,
        partSize,
        retries: 0,
        concurrency: 1,
        onStart: (start) => void announced.push({ start, putsSoFar: crashed.puts.length }),
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UploadError);
    expect(announced).toEqual([
      {
        start: { workspaceId, uploadId: crashed.started[0]!.uploadId, assetId: crashed.started[0]!.assetId, partSize, resumed: false },
        putsSoFar: 0,
      },
    ]);

    const { start } = announced[0]!;
    const resumedStarts: UploadStart[] = [];
    const result = await client.upload(data, {
      workspaceId,
      partSize: start.partSize,
      resume: { uploadId: start.uploadId, assetId: start.assetId },
      onStart: (again) => void resumedStarts.push(again),
    });
    expect(resumedStarts).toEqual([{ ...start, resumed: true }]);
    expect(await downloadedHash(client, workspaceId, result)).toEqual(expectedHash(data));
  });

  it('aborts a new upload whose onStart failed (it could never be resumed) and rejects with that failure', async () => {
    const { client: spied, spy } = spiedClient(server);
    const failure = await spied
      .upload(randomData(1000), {
        workspaceId,
        onStart: () => {
          throw new Error('storage for resume records is full');
        },
      })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ message: 'storage for resume records is full' });
    expect(spy.puts).toEqual([]);
    const { uploadId, assetId } = spy.started[0]!;
    const listed = await client.trpc.upload.listParts.query({ workspaceId, uploadId, assetId }).catch((error: unknown) => error);
    expect(listed).toMatchObject({ data: { code: 'INVALID_UPLOAD_ID' } });
  });

  it('fails with INVALID_UPLOAD_ID when there is no such upload to resume', async () => {
    const started = await client.trpc.upload.start.mutate({ workspaceId, fileType: 'application/octet-stream' });
    await client.trpc.upload.abort.mutate({ workspaceId, uploadId: started.uploadId, assetId: started.assetId });
    const error = await client
      .upload(randomData(10), { workspaceId, resume: { uploadId: started.uploadId, assetId: started.assetId } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ code: 'INVALID_UPLOAD_ID', status: 404, uploadId: started.uploadId });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { ObjectStore } from '../src/storage/store.js';
import { killApi } from './support/api-process.js';
import {
  ATTACK_CALLS,
  type AttackTarget,
  post,
  runAttack,
  signPartsBatch,
  startAttackTarget,
  type UploadTarget,
} from './support/batch-attack.js';
import { useCleanups } from './support/cleanups.js';
import { rest } from './support/rest-client.js';
import { startLocalServer, type TestServer } from './support/server.js';

const { defer } = useCleanups();

type BatchItem = { result?: { data: { json: { parts: Array<{ partNumber: number; url: string }> } } }; error?: { json: ErrorJson } };
type ErrorJson = { message: string; data: { code: string; httpStatus: number } };

const items = (text: string) => JSON.parse(text) as BatchItem[];
const codes = (text: string) => items(text).map((item) => item.error?.json.data.code ?? 'OK');

/** Counts the part URLs the store is asked to sign: the refusals below must cost none. */
function countSigning(store: ObjectStore): { urls: number } {
  const counter = { urls: 0 };
  const signPartUrls = store.signPartUrls.bind(store);
  store.signPartUrls = (key, uploadId, partNumbers, ...rest) => {
    counter.urls += partNumbers.length;
    return signPartUrls(key, uploadId, partNumbers, ...rest);
  };
  return counter;
}

async function openUpload(server: TestServer, workspaceId: string): Promise<UploadTarget> {
  const started = await rest(server.url, 'GET', '/s3/start-upload', { query: { workspaceId, fileType: 'image/png' } });
  expect(started.status).toBe(200);
  return { workspaceId, assetId: started.body.assetId, uploadId: started.body.uploadId };
}

describe('the batch of issue 17 (40 signParts calls of 10,000 parts, one 1.9 MB request) against the API process', () => {
  let target: AttackTarget;
  beforeAll(async () => {
    target = await startAttackTarget();
  }, 60_000);
  afterAll(async () => {
    if (target) await killApi(target.api);
  });

  it('is refused with 413 REQUEST_TOO_LARGE for every call, fast, while /healthz keeps answering', { timeout: 30_000 }, async () => {
    const batch = signPartsBatch(target.upload);
    expect(batch.body.length).toBeGreaterThan(1_800_000);
    const figures = await runAttack(target.api.url, target.api.child.pid!, batch, { copies: 1, headers: target.headers });
    const [answer] = figures.answers;
    expect(answer!.status).toBe(413);
    const refusals = items(answer!.text);
    expect(refusals).toHaveLength(ATTACK_CALLS);
    for (const refusal of refusals) {
      expect(refusal.error!.json.data).toMatchObject({ code: 'REQUEST_TOO_LARGE', httpStatus: 413 });
      expect(refusal.error!.json.message).toBe('one request may ask for at most 10000 part URLs; this one asks for 400000');
    }
    expect(answer!.ms).toBeLessThan(500);
    expect(figures.healthzMaxMs).toBeLessThan(100);
    console.info(
      `one batch: refused in ${answer!.ms.toFixed(0)} ms (${answer!.bytes} B); /healthz max ${figures.healthzMaxMs.toFixed(1)} ms over ${figures.healthzProbes} probes; RSS ${figures.rssBeforeMiB.toFixed(0)} -> ${figures.rssPeakMiB.toFixed(0)} MiB`,
    );
  });

  it('three at once are refused as fast, and the server grows by less than 64 MiB', { timeout: 30_000 }, async () => {
    const batch = signPartsBatch(target.upload);
    const figures = await runAttack(target.api.url, target.api.child.pid!, batch, { copies: 3, headers: target.headers });
    expect(figures.answers.map((answer) => answer.status)).toEqual([413, 413, 413]);
    for (const answer of figures.answers) {
      expect(new Set(codes(answer.text))).toEqual(new Set(['REQUEST_TOO_LARGE']));
      expect(answer.ms).toBeLessThan(500);
      // 40 refusals of a few hundred bytes, where the signed answer was 99.5 MiB.
      expect(answer.bytes).toBeLessThan(20_000);
    }
    expect(figures.healthzMaxMs).toBeLessThan(100);
    expect(figures.rssPeakMiB - figures.rssBeforeMiB).toBeLessThan(64);
    console.info(
      `three batches: refused in ${figures.answers.map((answer) => answer.ms.toFixed(0)).join(', ')} ms; /healthz max ${figures.healthzMaxMs.toFixed(1)} ms over ${figures.healthzProbes} probes; RSS ${figures.rssBeforeMiB.toFixed(0)} -> ${figures.rssPeakMiB.toFixed(0)} MiB`,
    );
  });

  it('a batch of 51 one-part calls is refused for its number of calls', async () => {
    const answer = await post(target.api.url, signPartsBatch(target.upload, 51, 1), target.headers);
    expect(answer.status).toBe(413);
    expect(items(answer.text)[0]!.error!.json.message).toBe('a batch may hold at most 50 calls; this one holds 51');
  });
});

describe('caps per request (in process, default caps: 50 calls, 10,000 part URLs)', () => {
  let server: TestServer;
  let signed: { urls: number };
  let upload: UploadTarget;
  beforeAll(async () => {
    server = await startLocalServer();
    signed = countSigning(server.store);
    upload = await openUpload(server, 'ws-caps');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves a batch just under both caps: 50 calls of 200 parts, 10,000 URLs', { timeout: 20_000 }, async () => {
    const before = signed.urls;
    const answer = await post(server.url, signPartsBatch(upload, 50, 200));
    expect(answer.status).toBe(200);
    const answered = items(answer.text);
    expect(answered).toHaveLength(50);
    for (const item of answered) {
      expect(item.result!.data.json.parts.map((part) => part.partNumber)).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
    }
    expect(signed.urls - before).toBe(10_000);
  });

  it('serves one call of 10,000 parts, a whole upload, as before', { timeout: 20_000 }, async () => {
    const answer = await post(server.url, signPartsBatch(upload, 1, 10_000));
    expect(answer.status).toBe(200);
    expect(items(answer.text)[0]!.result!.data.json.parts).toHaveLength(10_000);
  });

  it('refuses 10,001 part URLs over two calls, and 51 calls, before signing any', async () => {
    const before = signed.urls;
    const parts = signPartsBatch(upload, 1, 10_000);
    const body = JSON.stringify({ ...JSON.parse(parts.body), 1: { json: { ...upload, partNumbers: [1] } } });
    const overParts = await post(server.url, { path: '/trpc/upload.signParts,upload.signParts?batch=1', body });
    expect(overParts.status).toBe(413);
    expect(codes(overParts.text)).toEqual(['REQUEST_TOO_LARGE', 'REQUEST_TOO_LARGE']);

    const overCalls = await post(server.url, signPartsBatch(upload, 51, 1));
    expect(overCalls.status).toBe(413);
    expect(new Set(codes(overCalls.text))).toEqual(new Set(['REQUEST_TOO_LARGE']));
    expect(signed.urls).toBe(before);
  });

  it('counts single-part queries (GET batches of signPart) and calls of any procedure', async () => {
    const input = (count: number) =>
      encodeURIComponent(
        JSON.stringify(
          Object.fromEntries(Array.from({ length: count }, (_, index) => [index, { json: { ...upload, partNumber: index + 1 } }])),
        ),
      );
    const batch = (count: number) =>
      rest(server.url, 'GET', `/trpc/${Array(count).fill('upload.signPart').join(',')}?batch=1&input=${input(count)}`);
    expect((await batch(50)).status).toBe(200);
    const refused = await batch(51);
    expect(refused.status).toBe(413);
    expect(refused.body[0].error.json.data.code).toBe('REQUEST_TOO_LARGE');
  });

  it('leaves malformed inputs to the procedures, which answer 400 as before', async () => {
    const notNumbers = JSON.stringify({ 0: { json: { ...upload, partNumbers: 'many' } } });
    const answer = await post(server.url, { path: '/trpc/upload.signParts?batch=1', body: notNumbers });
    expect(answer.status).toBe(400);
    expect(codes(answer.text)).toEqual(['INVALID_PARAMETER']);
    const notJson = await post(server.url, { path: '/trpc/upload.signParts,upload.signParts?batch=1', body: '{"0":' });
    expect(notJson.status).toBe(400);
    expect(codes(notJson.text)).toEqual(['INVALID_PARAMETER', 'INVALID_PARAMETER']);
  });

  it('takes its caps from the configuration', async () => {
    const config = loadConfig({ MAX_CALLS_PER_BATCH: '20', MAX_PARTS_PER_REQUEST: '100' });
    expect(config.requestLimits).toEqual({ maxCallsPerBatch: 20, maxPartsPerRequest: 100 });
    expect(loadConfig({}).requestLimits).toEqual({ maxCallsPerBatch: 50, maxPartsPerRequest: 10_000 });
    expect(() => loadConfig({ MAX_CALLS_PER_BATCH: '19' })).toThrow(
      'MAX_CALLS_PER_BATCH=19: must be a whole number of calls from 20 to 10000',
    );
    expect(() => loadConfig({ MAX_PARTS_PER_REQUEST: '99' })).toThrow(
      'MAX_PARTS_PER_REQUEST=99: must be a whole number of part numbers from 100 to 1000000',
    );
    const small = await startLocalServer({ requestLimits: config.requestLimits });
    defer(() => small.close());
    const smallUpload = await openUpload(small, 'ws-small');
    expect((await post(small.url, signPartsBatch(smallUpload, 1, 100))).status).toBe(200);
    expect((await post(small.url, signPartsBatch(smallUpload, 1, 101))).status).toBe(413);
    expect((await post(small.url, signPartsBatch(smallUpload, 21, 1))).status).toBe(413);
  });
});

describe('the per-workspace budget of signed part URLs', () => {
  const limits = { windowMs: 60_000, perIp: 0, perWorkspace: 10_000, signedUrlsPerWorkspace: 1_000 };

  it('answers 429 RATE_LIMITED with Retry-After once the URLs signed pass the budget, on tRPC and REST', async () => {
    const server = await startLocalServer({ rateLimits: limits });
    defer(() => server.close());
    const signed = countSigning(server.store);
    const upload = await openUpload(server, 'ws-signer');

    // Two calls of 500: the budget exactly; six calls would have been nothing for the call budget.
    for (let round = 0; round < 2; round += 1) expect((await post(server.url, signPartsBatch(upload, 1, 500))).status).toBe(200);
    const refused = await post(server.url, signPartsBatch(upload, 1, 1));
    expect(refused.status).toBe(429);
    expect(items(refused.text)[0]!.error!.json).toMatchObject({
      message: expect.stringMatching(/^workspace ws-signer may have at most 1000 part URLs signed per 60 s; retry in \d+ s$/),
      data: { code: 'RATE_LIMITED', httpStatus: 429 },
    });

    const overRest = await rest(server.url, 'GET', '/s3/get-upload-url', {
      query: { workspaceId: upload.workspaceId, assetId: upload.assetId, UploadId: upload.uploadId, PartNumber: '1' },
    });
    expect({ status: overRest.status, code: overRest.body.code }).toEqual({ status: 429, code: 'RATE_LIMITED' });
    expect(Object.keys(overRest.body).sort()).toEqual(['code', 'error']);
    const retryAfter = Number(overRest.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(signed.urls).toBe(1_000);

    // Another workspace has its own budget.
    const other = await openUpload(server, 'ws-other');
    expect((await post(server.url, signPartsBatch(other, 1, 1_000))).status).toBe(200);
  });

  it('refuses a call that would pass the budget whole, signing none of it', async () => {
    const server = await startLocalServer({ rateLimits: limits });
    defer(() => server.close());
    const signed = countSigning(server.store);
    const upload = await openUpload(server, 'ws-whole');
    expect((await post(server.url, signPartsBatch(upload, 1, 900))).status).toBe(200);
    expect((await post(server.url, signPartsBatch(upload, 1, 200))).status).toBe(429);
    expect(signed.urls).toBe(900);
  });

  it('starts over in the next window', async () => {
    const server = await startLocalServer({ rateLimits: { ...limits, windowMs: 1_000 } });
    defer(() => server.close());
    const upload = await openUpload(server, 'ws-window');
    expect((await post(server.url, signPartsBatch(upload, 1, 1_000))).status).toBe(200);
    expect((await post(server.url, signPartsBatch(upload, 1, 1))).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await post(server.url, signPartsBatch(upload, 1, 1_000))).status).toBe(200);
  });

  it('defaults to 50,000 URLs a minute: five whole 10,000-part uploads, where the call budget alone allowed 20 million', () => {
    const { rateLimits } = loadConfig({});
    expect(rateLimits).toMatchObject({ windowMs: 60_000, perWorkspace: 2_000, signedUrlsPerWorkspace: 50_000 });
    expect(loadConfig({ RATE_LIMIT_SIGNED_URLS_PER_WORKSPACE: '0' }).rateLimits.signedUrlsPerWorkspace).toBe(0);
    expect(() => loadConfig({ RATE_LIMIT_SIGNED_URLS_PER_WORKSPACE: '-1' })).toThrow(
      'RATE_LIMIT_SIGNED_URLS_PER_WORKSPACE=-1: must be 0 (off) or a positive whole number of signed part URLs per window',
    );
  });
});

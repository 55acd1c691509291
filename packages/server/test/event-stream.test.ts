import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJwtPolicy } from '../src/auth/jwt-policy.js';
import { mintToken } from '../src/auth/mint-token.js';
import { assetCreatedEvent, assetEvent } from '../src/events/asset-event.js';
import { type ApiProcess, killApi, startApi } from './support/api-process.js';
import { type EventStream, openEventStream, uploadSmallFile } from './support/event-stream-client.js';
import { TEST_JWT_SECRET, testJwtConfig } from './support/jwt.js';
import { isPostgresSkipped, startPostgres, type TestPostgres } from './support/postgres.js';
import { rest } from './support/rest-client.js';
import { startLocalServer, type TestServer } from './support/server.js';

/*
 * events.subscribe over real HTTP, read frame by frame as an EventSource reads it: events arrive
 * within a second of the upload that caused them, a reconnect with the last id resumes with no gap
 * and no repeat, and a stream carries its own workspace's events only, to callers allowed it.
 */

const SECRET = TEST_JWT_SECRET;
const jwtConfig = testJwtConfig;

const workspace = () => `ws-${randomUUID().slice(0, 8)}`;
const isEvent = (frame: { event: string }) => frame.event === 'message';
const isError = (frame: { event: string }) => frame.event === 'serialized-error';
const errorCode = (frame: { data: string }) => (JSON.parse(frame.data) as { json: { data: { code: string } } }).json.data.code;

/** Waits until the stream is subscribed to the feed: tRPC sends `connected` before the procedure's first event. */
async function connected(stream: EventStream): Promise<EventStream> {
  expect(stream.status).toBe(200);
  expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
  await stream.next((frame) => frame.event === 'connected');
  return stream;
}

describe('the live event stream on one server', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  const A = workspace();
  const B = workspace();
  const streams: EventStream[] = [];
  const open = async (options: Parameters<typeof openEventStream>[1]) => {
    const stream = await openEventStream(server.url, options);
    streams.push(stream);
    return stream;
  };

  beforeAll(async () => {
    server = await startLocalServer({ policy: createJwtPolicy(jwtConfig), uploads: { allowedFileTypes: ['application/octet-stream'] } });
    alice = await mintToken({ secret: SECRET, workspaces: [A], subject: 'alice' });
    bob = await mintToken({ secret: SECRET, workspaces: [A, B], subject: 'bob' });
    return async () => {
      for (const stream of streams) stream.close();
      await server.close();
    };
  });

  it("gives client B client A's asset.created within a second, under the event's id, in the webhook's shape", async () => {
    const stream = await connected(await open({ workspaceId: A, token: bob }));
    // A person's view: what the page shows arrives a moment after the other tab's upload completed.
    const upload = await uploadSmallFile(server.url, A, { token: alice, fileName: 'from-alice.txt' });
    const frame = await stream.next(isEvent);
    const latencyMs = frame.at - upload.completedAt;
    console.info(`[event-stream] asset.created reached the other client ${latencyMs.toFixed(1)} ms after complete answered`);
    expect(latencyMs).toBeLessThan(1000);
    const [delivered] = stream.events();
    const event = assetCreatedEvent.parse(delivered!.event);
    expect(delivered!.id).toBe(event.id);
    expect(event).toMatchObject({
      type: 'asset.created',
      workspaceId: A,
      data: { key: upload.key, assetId: upload.assetId, fileName: 'from-alice.txt', createdBy: 'alice' },
    });
  });

  it('resumes after a reconnect with every event that happened meanwhile, in order, none twice, then the live ones', async () => {
    const ws = A;
    const first = await connected(await open({ workspaceId: ws, token: bob }));
    const seen = await uploadSmallFile(server.url, ws, { token: bob, fileName: 'seen.txt' });
    const lastSeen = await first.next((frame) => isEvent(frame) && frame.data.includes(seen.key));
    first.close();

    const missed = [];
    for (const name of ['missed-1.txt', 'missed-2.txt', 'missed-3.txt'])
      missed.push(await uploadSmallFile(server.url, ws, { token: bob, fileName: name }));
    const deleted = await rest(server.url, 'DELETE', '/s3/delete', {
      query: { workspaceId: ws, key: missed[0]!.key },
      headers: { authorization: `Bearer ${bob}` },
    });
    expect(deleted.status).toBe(200);
    const expected: Array<[string, string]> = [
      ['asset.created', missed[0]!.key],
      ['asset.created', missed[1]!.key],
      ['asset.created', missed[2]!.key],
      ['asset.deleted', missed[0]!.key],
    ];

    // Once as an EventSource reconnects by itself (the header), once as tRPC's client does (the input).
    for (const resume of [{ lastEventIdHeader: lastSeen.id }, { lastEventId: lastSeen.id }]) {
      const again = await connected(await open({ workspaceId: ws, token: bob, ...resume }));
      await again.next(() => again.events().length >= expected.length);
      const live = await uploadSmallFile(server.url, ws, { token: bob, fileName: 'live.txt' });
      await again.next((frame) => isEvent(frame) && frame.data.includes(live.key));
      expected.push(['asset.created', live.key]);
      // A little longer, for a duplicate that would come late.
      await new Promise((resolve) => setTimeout(resolve, 150));
      const got = again.events().map(({ id, event }) => ({ sseId: id, ...assetEvent.parse(event) }));
      expect(got.map((event) => [event.type, event.data.key])).toEqual(expected);
      expect(new Set(got.map((event) => event.id)).size).toBe(got.length);
      for (const event of got) expect(event.sseId).toBe(event.id);
      again.close();
    }
  });

  it("never carries another workspace's events", async () => {
    const onlyB = await connected(await open({ workspaceId: B, token: bob }));
    await uploadSmallFile(server.url, A, { token: bob, fileName: 'for-a.txt' });
    const forB = await uploadSmallFile(server.url, B, { token: bob, fileName: 'for-b.txt' });
    await onlyB.next((frame) => isEvent(frame) && frame.data.includes(forB.key));
    expect(onlyB.events().map(({ event }) => [event.workspaceId, event.data.key])).toEqual([[B, forB.key]]);
  });

  it('refuses a token without the workspace with FORBIDDEN, as an error event of the stream, and ends it', async () => {
    const refused = await open({ workspaceId: B, token: alice });
    // tRPC answers a subscription 200 and reports the failure in the stream, where EventSource can read it.
    expect(refused.status).toBe(200);
    const frame = await refused.next(isError);
    expect(errorCode(frame)).toBe('FORBIDDEN');
    await refused.ended;
    expect(refused.frames.filter(isEvent)).toEqual([]);

    const anonymous = await open({ workspaceId: A });
    expect(errorCode(await anonymous.next(isError))).toBe('UNAUTHORIZED');
  });

  it('refuses a lastEventId the workspace has no event of with INVALID_PARAMETER', async () => {
    const unknown = await open({ workspaceId: A, token: bob, lastEventId: `evt_${'0'.repeat(32)}` });
    const frame = await unknown.next(isError);
    expect(errorCode(frame)).toBe('INVALID_PARAMETER');
    expect(JSON.parse(frame.data).json.message).toMatch(/subscribe without it/);
    await unknown.ended;

    // An event of another workspace is no position in this one.
    const other = await connected(await open({ workspaceId: B, token: bob }));
    const inB = await uploadSmallFile(server.url, B, { token: bob });
    const ofB = await other.next((frame) => isEvent(frame) && frame.data.includes(inB.key));
    const crossed = await open({ workspaceId: A, token: bob, lastEventId: ofB.id });
    expect(errorCode(await crossed.next(isError))).toBe('INVALID_PARAMETER');
  });
});

describe('the live event stream when the server shuts down', () => {
  it('ends open streams as shutdown begins, without tRPC\'s "return" (so clients reconnect), and close() does not wait out the grace', async () => {
    const server = await startLocalServer();
    const stream = await connected(await openEventStream(server.url, { workspaceId: workspace() }));
    const started = performance.now();
    await server.close();
    const closeMs = performance.now() - started;
    await stream.ended;
    console.info(`[event-stream] close() with an open stream took ${closeMs.toFixed(0)} ms (grace 1000 ms)`);
    expect(closeMs).toBeLessThan(500);
    expect(stream.frames.map((frame) => frame.event)).not.toContain('return');
  });
});

const postgresResult = await startPostgres();
const postgres = isPostgresSkipped(postgresResult) ? undefined : (postgresResult as TestPostgres);
afterAll(() => postgres?.destroy());

describe.skipIf(!postgres)('the live event stream with two API instances on one PostgreSQL', () => {
  const apis: ApiProcess[] = [];

  beforeAll(async () => {
    const env = { DATABASE_URL: await postgres!.createDatabase(), ALLOWED_FILE_TYPES: 'application/octet-stream' };
    apis.push(...(await Promise.all([startApi(env), startApi(env)])));
    return () => Promise.all(apis.map(killApi)).then(() => {});
  }, 60_000);

  it('delivers an upload through instance 1 to a subscription on instance 2 within a second (its poll)', async () => {
    const [first, second] = apis as [ApiProcess, ApiProcess];
    const ws = workspace();
    const stream = await connected(await openEventStream(second.url, { workspaceId: ws }));
    try {
      const upload = await uploadSmallFile(first.url, ws, { fileName: 'elsewhere.txt' });
      const frame = await stream.next((candidate) => isEvent(candidate) && candidate.data.includes(upload.key));
      const latencyMs = frame.at - upload.completedAt;
      console.info(`[event-stream] instance 2 streamed instance 1's asset.created ${latencyMs.toFixed(1)} ms after complete answered`);
      expect(latencyMs).toBeLessThan(1000);
      expect(assetCreatedEvent.parse(stream.events()[0]!.event).data.key).toBe(upload.key);
    } finally {
      stream.close();
    }
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createJwtPolicy } from '../../server/src/auth/jwt-policy.js';
import { mintToken } from '../../server/src/auth/mint-token.js';
import { assetEvent } from '../../server/src/events/asset-event.js';
import { TEST_JWT_SECRET, testJwtConfig } from '../../server/test/support/jwt.js';
import { type AssetEvent, createS3ServiceClient, type S3ServiceClient, S3ServiceError } from '../src/index.js';
import { startLocalServer, type TestServer } from './support/client.js';

const SECRET = TEST_JWT_SECRET;
const jwtConfig = testJwtConfig;

const workspace = () => `ws-${randomUUID().slice(0, 8)}`;
const bytes = (text: string) => new TextEncoder().encode(text);
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects what a subscription delivers and lets a test wait for it. */
function recorder() {
  const events: AssetEvent[] = [];
  const errors: unknown[] = [];
  const states: string[] = [];
  const until = async (done: () => boolean, timeoutMs = 8_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out; events ${JSON.stringify(events)}, errors ${String(errors)}`);
      await wait(10);
    }
  };
  return {
    events,
    errors,
    states,
    onEvent: (event: AssetEvent) => void events.push(event),
    onError: (error: unknown) => void errors.push(error),
    onStateChange: (state: string) => void states.push(state),
    until,
    live: () => until(() => states.includes('live')),
  };
}

/** A fetch that records each request's URL and headers, and can cut the first event stream's body after its first event. */
function recordingFetch(options: { cutFirstStreamAfterEvents?: number } = {}) {
  const requests: Array<{ url: string; headers: Headers }> = [];
  let streamsCut = 0;
  const fetchWithRecord: typeof globalThis.fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    requests.push({ url, headers: new Headers(init?.headers) });
    const response = await fetch(input, init);
    const cutAfter = options.cutFirstStreamAfterEvents;
    if (cutAfter === undefined || streamsCut > 0 || !url.includes('/trpc/events.subscribe') || !response.body) return response;
    streamsCut += 1;
    return new Response(cutAfterEvents(response.body, cutAfter), { status: response.status, headers: response.headers });
  };
  return { fetch: fetchWithRecord, requests };
}

/** The stream until `count` data frames went through, then a network failure (a dropped connection). */
function cutAfterEvents(body: ReadableStream<Uint8Array>, count: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let seen = 0;
  return new ReadableStream({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) return controller.close();
      controller.enqueue(value);
      seen += (decoder.decode(value, { stream: true }).match(/^data: \{"json":\{"id"/gm) ?? []).length;
      if (seen >= count) {
        await reader.cancel();
        controller.error(new TypeError('terminated: the connection dropped'));
      }
    },
    cancel: () => reader.cancel(),
  });
}

describe('client.events: the live event stream in the SDK', () => {
  let server: TestServer;
  let token: string;
  const A = workspace();
  let uploader: S3ServiceClient;
  const stops: Array<() => void> = [];

  beforeAll(async () => {
    server = await startLocalServer({ policy: createJwtPolicy(jwtConfig), uploads: { allowedFileTypes: ['text/plain'] } });
    token = await mintToken({ secret: SECRET, workspaces: [A], subject: 'carol' });
    uploader = createS3ServiceClient({ url: server.url, headers: { authorization: `Bearer ${token}` } });
  });
  afterAll(async () => {
    for (const stop of stops) stop();
    await server?.close();
  });

  it('delivers typed events, with the Authorization header on the stream and no token in its URL', async () => {
    const spy = recordingFetch();
    let headerCalls = 0;
    const client = createS3ServiceClient({
      url: server.url,
      fetch: spy.fetch,
      headers: () => {
        headerCalls += 1;
        return { authorization: `Bearer ${token}` };
      },
    });
    const seen = recorder();
    stops.push(client.events({ workspaceId: A, ...seen }));
    await seen.live();
    const uploaded = await uploader.upload(bytes('hello events\n'), { workspaceId: A, fileName: 'hello.txt', fileType: 'text/plain' });
    await seen.until(() => seen.events.length > 0);

    const [event] = seen.events;
    expect(assetEvent.parse(event)).toEqual(event);
    expect(event).toMatchObject({
      type: 'asset.created',
      workspaceId: A,
      data: { key: uploaded.key, fileName: 'hello.txt', createdBy: 'carol' },
    });
    // The type is the router's: narrowing on `type` reaches each event's own data.
    if (event?.type === 'asset.created') expectTypeOf(event.data.etag).toEqualTypeOf<string>();
    expectTypeOf<AssetEvent['type']>().toEqualTypeOf<'asset.created' | 'asset.deleted' | 'upload.aborted' | 'upload.expired'>();

    const stream = spy.requests.find((request) => request.url.includes('/trpc/events.subscribe'));
    expect(stream?.headers.get('authorization')).toBe(`Bearer ${token}`);
    expect(stream?.headers.get('accept')).toBe('text/event-stream');
    expect(stream?.url).not.toContain(token);
    expect(decodeURIComponent(stream!.url)).not.toMatch(/bearer|authorization|connectionParams/i);
    expect(headerCalls).toBeGreaterThan(0);
  });

  it('stops when its signal aborts (and when unsubscribed): no event after that', async () => {
    const abort = new AbortController();
    const client = createS3ServiceClient({ url: server.url, headers: { authorization: `Bearer ${token}` } });
    const aborted = recorder();
    client.events({ workspaceId: A, signal: abort.signal, ...aborted });
    const unsubscribed = recorder();
    const unsubscribe = client.events({ workspaceId: A, ...unsubscribed });
    await Promise.all([aborted.live(), unsubscribed.live()]);
    await uploader.upload(bytes('one\n'), { workspaceId: A, fileName: 'one.txt', fileType: 'text/plain' });
    await Promise.all([aborted.until(() => aborted.events.length === 1), unsubscribed.until(() => unsubscribed.events.length === 1)]);

    abort.abort();
    unsubscribe();
    unsubscribe();
    await uploader.upload(bytes('two\n'), { workspaceId: A, fileName: 'two.txt', fileType: 'text/plain' });
    await wait(700);
    expect(aborted.events).toHaveLength(1);
    expect(unsubscribed.events).toHaveLength(1);
    expect([...aborted.errors, ...unsubscribed.errors]).toEqual([]);
  });

  it('reconnects after a dropped connection and resumes after the last event it got: none lost, none twice', async () => {
    const spy = recordingFetch({ cutFirstStreamAfterEvents: 1 });
    const client = createS3ServiceClient({ url: server.url, fetch: spy.fetch, headers: { authorization: `Bearer ${token}` } });
    const seen = recorder();
    stops.push(client.events({ workspaceId: A, ...seen }));
    await seen.live();
    const names = ['first.txt', 'second.txt', 'third.txt'];
    for (const name of names) await uploader.upload(bytes(`${name}\n`), { workspaceId: A, fileName: name, fileType: 'text/plain' });
    // The EventSource waits its reconnection time (3 s) before it tries again.
    await seen.until(() => seen.events.length >= names.length, 10_000);
    await wait(200);
    expect(seen.events.map((event) => (event.type === 'asset.created' ? event.data.fileName : event.type))).toEqual(names);
    const streams = spy.requests.filter((request) => request.url.includes('/trpc/events.subscribe'));
    expect(streams.length).toBeGreaterThanOrEqual(2);
    // The reconnect says where it got to, and carries the token again.
    expect(streams[1]!.headers.get('last-event-id')).toBe(seen.events[0]!.id);
    expect(streams[1]!.headers.get('authorization')).toBe(`Bearer ${token}`);
    expect(seen.errors).toEqual([]);
  }, 20_000);

  it('reports a refused stream once, as an S3ServiceError with the code (FORBIDDEN), and does not retry it', async () => {
    const spy = recordingFetch();
    const client = createS3ServiceClient({ url: server.url, fetch: spy.fetch, headers: { authorization: `Bearer ${token}` } });
    const refused = recorder();
    client.events({ workspaceId: workspace(), ...refused });
    await refused.until(() => refused.errors.length > 0);
    await wait(300);
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors[0]).toBeInstanceOf(S3ServiceError);
    expect(refused.errors[0]).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    expect(spy.requests.filter((request) => request.url.includes('/trpc/events.subscribe'))).toHaveLength(1);
  });
});

import fc from 'fast-check';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPlainJson, wireTransformer } from '../src/wire-transformer.js';
import { startLocalServer, type TestServer } from './support/server.js';

/** A value or the error thrown: superjson refuses some keys, and so must the transformer. */
function outcome(serialize: () => unknown): unknown {
  try {
    return { value: serialize() };
  } catch (error) {
    return { error: String(error) };
  }
}

describe('the tRPC wire transformer', () => {
  it('answers exactly what superjson answers, for any value', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withDate: true,
          withMap: true,
          withSet: true,
          withBigInt: true,
          withNullPrototype: true,
          withSparseArray: true,
          withBoxedValues: true,
        }),
        (value) => {
          expect(outcome(() => wireTransformer.serialize(value))).toEqual(outcome(() => superjson.serialize(value)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('answers the same for plain JSON values, with no meta', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // JSON may hold a `__proto__` key, which superjson refuses: then both must refuse it.
        const wire = outcome(() => wireTransformer.serialize(value));
        expect(wire).toEqual(outcome(() => superjson.serialize(value)));
        if (isPlainJson(value)) expect((wire as { value: object }).value).not.toHaveProperty('meta');
      }),
      { numRuns: 2000, examples: [[JSON.parse('{"__proto__":{"a":1}}')]] },
    );
  });

  it.each([
    ['undefined in an object', { a: undefined }],
    // biome-ignore lint/suspicious/noSparseArray: the hole is what this case is about
    ['a hole in an array', [1, , 3]],
    ['NaN', [Number.NaN]],
    ['Infinity', { n: Number.POSITIVE_INFINITY }],
    ['-0', { n: -0 }],
    ['a Date', { at: new Date(0) }],
    ['a bigint', [1n]],
    [
      'an object met twice',
      (() => {
        const shared = { a: 1 };
        return [shared, shared];
      })(),
    ],
    [
      'a class instance',
      [
        new (class Part {
          n = 1;
        })(),
      ],
    ],
  ])('leaves %s to superjson, which annotates it', (_, value) => {
    expect(isPlainJson(value)).toBe(false);
    expect(wireTransformer.serialize(value)).toEqual(superjson.serialize(value));
    expect(superjson.deserialize(wireTransformer.serialize(value))).toEqual(value);
  });

  it('takes what superjson sends, Dates included', () => {
    const value = { at: new Date(1234), tags: new Set(['a']) };
    expect(wireTransformer.deserialize(superjson.serialize(value))).toEqual(value);
  });
});

describe('answers over HTTP', () => {
  let server: TestServer;
  const workspaceId = 'wire-ws';

  beforeAll(async () => {
    server = await startLocalServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const post = async (path: string, input: unknown) => {
    const response = await fetch(`${server.url}/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(superjson.serialize(input)),
    });
    return { status: response.status, body: (await response.json()) as { result: { data: { json: unknown; meta?: unknown } } } };
  };

  it('sends a batch of part URLs as plain JSON, with no superjson meta', async () => {
    const started = await post('upload.start', { workspaceId, fileType: 'application/pdf' });
    expect(started.status).toBe(200);
    const { assetId, uploadId } = started.body.result.data.json as { assetId: string; uploadId: string };
    const partNumbers = Array.from({ length: 500 }, (_, index) => index + 1);
    const signed = await post('upload.signParts', { workspaceId, assetId, uploadId, partNumbers });
    expect(signed.status).toBe(200);
    expect(signed.body.result.data).not.toHaveProperty('meta');
    const answer = signed.body.result.data.json as { parts: Array<{ partNumber: number; url: string }>; expiresIn: number };
    expect(answer.expiresIn).toBe(3600);
    expect(answer.parts.map((part) => part.partNumber)).toEqual(partNumbers);
    expect(answer.parts.every((part) => part.url.startsWith(server.url))).toBe(true);
  });

  it('still annotates a Date for the client to restore', async () => {
    const started = await post('upload.start', { workspaceId, fileType: 'text/plain' });
    const { assetId, uploadId } = started.body.result.data.json as { assetId: string; uploadId: string };
    const signed = await post('upload.signParts', { workspaceId, assetId, uploadId, partNumbers: [1] });
    const [{ url }] = (signed.body.result.data.json as { parts: Array<{ url: string }> }).parts as [{ url: string }];
    const put = await fetch(url, { method: 'PUT', body: 'hello' });
    expect(put.status).toBe(200);
    const etag = put.headers.get('etag')!;
    const completed = await post('upload.complete', { workspaceId, assetId, uploadId, parts: [{ partNumber: 1, etag }] });
    const { key } = completed.body.result.data.json as { key: string };
    const head = await fetch(
      `${server.url}/trpc/object.head?input=${encodeURIComponent(JSON.stringify(superjson.serialize({ workspaceId, key })))}`,
    );
    const payload = ((await head.json()) as { result: { data: Parameters<typeof superjson.deserialize>[0] } }).result.data;
    expect(payload.meta).toBeDefined();
    expect(superjson.deserialize<{ lastModified: Date; size: number }>(payload)).toMatchObject({ lastModified: expect.any(Date), size: 5 });
  });
});

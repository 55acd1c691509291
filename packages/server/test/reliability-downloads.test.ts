import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalStore } from '../src/storage/local/index.js';
import { createS3Store } from '../src/storage/s3/index.js';
import type { ObjectStore } from '../src/storage/store.js';
import { MiB, randomData, sha256 } from './support/bytes.js';
import { useCleanups } from './support/cleanups.js';
import { completeUpload, downloadUrl, openDownload, uploadParts } from './support/rest-client.js';
import { useS3Emulator } from './support/s3-emulator-fixture.js';
import { fakeS3Store, startFakeS3 } from './support/s3-fake-server.js';
import { s3StoreOptions } from './support/s3-harness.js';
import { startServer, type TestAppOptions, type TestServer } from './support/server.js';

/** What the store handed out: every body it opened and how many bytes were read from them. */
interface StoreTap {
  bodies: Readable[];
  bytesRead: number;
}

/** The store, with each object body counted on its way out and kept for inspection. */
function tapped(store: ObjectStore, tap: StoreTap): ObjectStore {
  return {
    ...store,
    getObject: async (key, options) => {
      const object = await store.getObject(key, options);
      tap.bodies.push(object.body);
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          tap.bytesRead += chunk.length;
          callback(null, chunk);
        },
      });
      object.body.once('error', (error) => counter.destroy(error));
      counter.once('close', () => object.body.destroy());
      return { ...object, body: object.body.pipe(counter) };
    },
  };
}

interface Rig {
  server: TestServer;
  tap: StoreTap;
  url: string;
  data: Buffer;
}

type StoreFactory = (publicUrl: () => string) => Promise<{ store: ObjectStore; close?: () => Promise<void> }>;

const localStore: StoreFactory = async (publicUrl) => {
  const dir = await mkdtemp(join(tmpdir(), 'reliability-downloads-'));
  return { store: await createLocalStore({ dir, publicUrl }), close: () => rm(dir, { recursive: true, force: true }) };
};

/** The app over `factory`'s store holding one object of `size` random bytes, uploaded through /s3. */
async function startRig(factory: StoreFactory, size: number, appOptions: TestAppOptions = {}): Promise<Rig> {
  const tap: StoreTap = { bodies: [], bytesRead: 0 };
  const server = await startServer(async (publicUrl) => {
    const made = await factory(publicUrl);
    return { ...made, store: tapped(made.store, tap) };
  }, appOptions);
  const workspaceId = 'ws-downloads';
  const data = randomData(size);
  const upload = await uploadParts(server.url, workspaceId, [data]);
  const completed = await completeUpload(server.url, upload);
  if (completed.status !== 200) throw new Error(`complete answered ${completed.status}`);
  tap.bodies.length = 0;
  tap.bytesRead = 0;
  return { server, tap, url: downloadUrl(server.url, workspaceId, upload.key), data };
}

function openFileDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

async function readWhole(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads one chunk, then drops the connection, as a browser tab closed mid-download does. */
async function downloadAndHangUp(url: string): Promise<void> {
  const response = await openDownload(url);
  await once(response, 'data');
  const closed = once(response, 'close');
  response.destroy();
  await closed;
}

function describeDisconnects(name: string, factory: () => StoreFactory) {
  describe(`downloads that clients abandon (${name})`, () => {
    let rig: Rig;
    beforeAll(async () => {
      rig = await startRig(factory(), 16 * MiB);
    }, 60_000);
    afterAll(async () => rig?.server.close());

    it('closes the store stream of each of 100 abandoned downloads and leaks no descriptor', { timeout: 60_000 }, async () => {
      // Warm up once, so lazily opened descriptors (the store's agent, a worker) count in both samples.
      await downloadAndHangUp(rig.url);
      await expect.poll(() => rig.tap.bodies.every((body) => body.destroyed), { timeout: 5_000 }).toBe(true);
      const before = openFileDescriptors();

      for (let round = 0; round < 100; round += 1) await downloadAndHangUp(rig.url);

      expect(rig.tap.bodies).toHaveLength(101);
      await expect.poll(() => rig.tap.bodies.filter((body) => !body.destroyed).length, { timeout: 5_000 }).toBe(0);
      // Nothing was read to the end: each stream was stopped, not drained into a dead socket.
      expect(rig.tap.bytesRead).toBeLessThan(101 * rig.data.length);
      await expect.poll(openFileDescriptors, { timeout: 5_000 }).toBeLessThanOrEqual(before + 2);

      const whole = await readWhole(await openDownload(rig.url));
      expect(sha256(whole)).toBe(sha256(rig.data));
    });
  });
}

describeDisconnects('local disk', () => localStore);

describe('downloads through the S3 driver', () => {
  const s3 = useS3Emulator();

  it('runs against a real S3 server', (context) => {
    s3.skipUnlessRunning(context);
  });

  describeDisconnects('S3 driver on versitygw', () => async () => ({ store: createS3Store(s3StoreOptions(s3.emulator)) }));
});

describe('slow and stalled readers', () => {
  const { defer } = useCleanups();

  it('keeps memory flat while a slow reader takes a large object', { timeout: 60_000 }, async () => {
    const rig = await startRig(localStore, 64 * MiB);
    defer(() => rig.server.close());
    const response = await openDownload(rig.url);
    const baseline = process.memoryUsage();
    let received = 0;
    let maxInFlight = 0;
    let maxRssGrowth = 0;
    const hash = createHash('sha256');
    const sampler = setInterval(() => {
      maxInFlight = Math.max(maxInFlight, rig.tap.bytesRead - received);
      maxRssGrowth = Math.max(maxRssGrowth, process.memoryUsage().rss - baseline.rss);
    }, 20);
    try {
      // About 40 MiB/s: far slower than disk, so without backpressure the server would buffer the rest.
      for await (const chunk of response) {
        const bytes = chunk as Buffer;
        hash.update(bytes);
        const before = Math.floor(received / MiB);
        received += bytes.length;
        if (Math.floor(received / MiB) > before) {
          response.pause();
          await new Promise((resolve) => setTimeout(resolve, 25));
          response.resume();
        }
      }
    } finally {
      clearInterval(sampler);
    }
    expect(received).toBe(rig.data.length);
    expect(hash.digest('hex')).toBe(sha256(rig.data));
    // What the server read from disk ran ahead of the reader by socket buffers only (a few MiB),
    // and the process did not grow by anything near the object's size.
    expect(maxInFlight).toBeLessThan(24 * MiB);
    expect(maxRssGrowth).toBeLessThan(48 * MiB);
  });

  it('cuts a download whose reader stops reading, and closes the file', { timeout: 20_000 }, async () => {
    const rig = await startRig(localStore, 24 * MiB, { downloadIdleTimeoutMs: 400 });
    defer(() => rig.server.close());
    const response = await openDownload(rig.url);
    await once(response, 'data');
    response.pause();
    // The reader sits on its socket; the server gives up on it and closes the file.
    await expect.poll(() => rig.tap.bodies.length === 1 && rig.tap.bodies[0]!.destroyed, { timeout: 5_000 }).toBe(true);
    expect(rig.tap.bytesRead).toBeLessThan(rig.data.length);
    // When the reader wakes up it finds the answer cut short, not the rest of the object.
    const rest = await readWhole(response).catch(() => Buffer.alloc(0));
    expect(response.complete).toBe(false);
    expect(rest.length).toBeLessThan(rig.data.length);

    const whole = await readWhole(await openDownload(rig.url));
    expect(whole.length).toBe(rig.data.length);
  });

  it('cuts a download whose S3 body stops arriving, and releases the S3 connection', { timeout: 20_000 }, async () => {
    let s3ConnectionClosed = false;
    const fake = await startFakeS3((_request, response) => {
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': 8 * MiB,
        etag: '"0123456789abcdef0123456789abcdef"',
        'last-modified': new Date().toUTCString(),
      });
      response.write(Buffer.alloc(256 * 1024, 1));
      response.once('close', () => (s3ConnectionClosed = true));
      // ...and nothing more: S3 stalls mid-body.
    });
    defer(() => fake.close());
    const server = await startServer(
      async () => ({
        store: fakeS3Store(fake.endpoint),
      }),
      { downloadIdleTimeoutMs: 400 },
    );
    defer(() => server.close());

    const response = await openDownload(downloadUrl(server.url, 'ws-downloads', 'ws-downloads/digital_assets/stalled'));
    expect(response.statusCode).toBe(200);
    const started = Date.now();
    const received = await readWhole(response).catch(() => undefined);
    expect(received?.length ?? 0).toBeLessThan(8 * MiB);
    expect(response.complete).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect.poll(() => s3ConnectionClosed, { timeout: 2_000 }).toBe(true);
  });
});

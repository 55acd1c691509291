import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLocalStore } from '../src/storage/local/index.js';
import type { ObjectStore } from '../src/storage/store.js';
import { MiB, randomData } from './support/bytes.js';
import { completeUpload, downloadUrl, uploadParts } from './support/rest-client.js';
import { startServer, type TestServer } from './support/server.js';

const PACED_READER = fileURLToPath(new URL('./support/paced-reader.py', import.meta.url));
const IDLE_MS = 1_500;
const SIZE = 200 * MiB;
const PACE = 16 * 1024;

interface PacedRead {
  body: Buffer;
  /** The server kept the connection through the reading time. */
  keptOpen: boolean;
  ms: number;
}

/** Reads `url` at `pace` bytes/s for `readMs`, then stops reading for `stopMs` (if any) and takes the rest. */
function pacedRead(url: string, pace: number, readMs: number, stopMs = 0): Promise<PacedRead> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile(
      'python3',
      [PACED_READER, url, String(pace), String(readMs / 1000), String(stopMs / 1000)],
      { encoding: 'buffer', maxBuffer: 64 * MiB, timeout: readMs + stopMs + 30_000 },
      (error, stdout) => {
        const code = (error as { code?: unknown } | null)?.code;
        if (error && code !== 3) reject(error);
        else resolve({ body: stdout, keptOpen: code !== 3, ms: Date.now() - started });
      },
    );
  });
}

/**
 * When the server closed each object body it opened. A cut is seen here and not by the reader:
 * the kernel still delivers the megabytes queued before the cut, for minutes at a slow pace.
 */
function recordBodyCloses(store: ObjectStore, closedAt: number[]): ObjectStore {
  return {
    ...store,
    getObject: async (key, options) => {
      const object = await store.getObject(key, options);
      object.body.once('close', () => closedAt.push(Date.now()));
      return object;
    },
  };
}

describe(`readers slower than the socket buffers (idle timeout ${IDLE_MS} ms)`, () => {
  let server: TestServer;
  let data: Buffer;
  let url: string;
  const closedAt: number[] = [];

  beforeAll(async () => {
    server = await startServer(
      async (publicUrl) => {
        const dir = await mkdtemp(join(tmpdir(), 'slow-readers-'));
        const store = recordBodyCloses(await createLocalStore({ dir, publicUrl }), closedAt);
        return { store, close: () => rm(dir, { recursive: true, force: true }) };
      },
      { downloadIdleTimeoutMs: IDLE_MS },
    );
    data = randomData(SIZE);
    const upload = await uploadParts(server.url, 'ws-slow', [data]);
    expect((await completeUpload(server.url, upload)).status).toBe(200);
    url = downloadUrl(server.url, 'ws-slow', upload.key);
  }, 120_000);
  beforeEach(() => {
    closedAt.length = 0;
  });
  afterAll(async () => server?.close());

  it("keeps a 16 KiB/s reader of a 200 MiB object for five idle timeouts, with the object's bytes", { timeout: 60_000 }, async () => {
    const started = Date.now();
    const read = await pacedRead(url, PACE, 5 * IDLE_MS);
    expect(read.keptOpen).toBe(true);
    // The server kept sending until the reader itself went away.
    await expect.poll(() => closedAt.length).toBe(1);
    expect(closedAt[0]! - started).toBeGreaterThanOrEqual(5 * IDLE_MS);
    // About 16 KiB/s of it: the reader was paced, not the server.
    expect(read.body.length).toBeGreaterThan(PACE * ((5 * IDLE_MS) / 1000) * 0.7);
    expect(read.body.equals(data.subarray(0, read.body.length))).toBe(true);
  });

  it('cuts a reader that stops reading, within twice the idle timeout once its buffers are full', { timeout: 60_000 }, async () => {
    const started = Date.now();
    const read = await pacedRead(url, PACE, 2 * IDLE_MS, 5 * IDLE_MS);
    expect(read.keptOpen).toBe(true);
    // Cut while it slept: its buffers fill within moments of the stop, then at most two timeouts.
    expect(closedAt).toHaveLength(1);
    expect(closedAt[0]! - started).toBeLessThan(2 * IDLE_MS + 2 * IDLE_MS + 2_000);
    // What it gets after waking is what sat in buffers, then the cut: never the whole object.
    expect(read.body.length).toBeLessThan(16 * MiB);
    expect(read.body.equals(data.subarray(0, read.body.length))).toBe(true);
  });
});

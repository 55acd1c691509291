import { describe, expect, it } from 'vitest';
import type { S3ServiceClient } from '../src/index.js';
import { progressRecorder, withLocalServer } from './support/client.js';
import { generatedStream, hashBody, MiB } from './support/data.js';

const workspaceId = 'client-large';

/**
 * Memory still in use: garbage is collected first (vitest.config.ts runs tests with --expose-gc).
 * V8 frees the bytes of dead ArrayBuffers on a background thread after the collection, so the
 * reading waits one turn of the event loop and collects again before it counts them.
 */
async function liveMemory(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (vitest.config.ts sets it)');
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  return process.memoryUsage();
}

describe('a 200 MiB stream upload', () => {
  let client: S3ServiceClient;
  withLocalServer((_server, plain) => {
    client = plain;
  });

  it('never holds the file in memory: growth stays near concurrency x partSize', async () => {
    const size = 200 * MiB;
    const partSize = 5 * MiB;
    const concurrency = 4;
    const source = generatedStream(size);
    const progress = progressRecorder();

    const baseline = await liveMemory();
    let peak = { rss: baseline.rss, arrayBuffers: baseline.arrayBuffers };
    const sampler = setInterval(async () => {
      const now = await liveMemory();
      peak = { rss: Math.max(peak.rss, now.rss), arrayBuffers: Math.max(peak.arrayBuffers, now.arrayBuffers) };
    }, 100);
    const result = await client
      .upload(source.stream, { workspaceId, partSize, concurrency, onProgress: progress.onProgress })
      .finally(() => clearInterval(sampler));

    const growth = { rss: peak.rss - baseline.rss, arrayBuffers: peak.arrayBuffers - baseline.arrayBuffers };
    console.info(
      `200 MiB upload: peak growth rss ${(growth.rss / MiB).toFixed(1)} MiB, arrayBuffers ${(growth.arrayBuffers / MiB).toFixed(1)} MiB`,
    );
    // Measured on Node 24: one part per worker plus the stream's own buffer, ~26 MiB of live
    // buffers, and with checksums (the default) one part hashed and signed ahead of the workers;
    // RSS grows by 80-110 MiB (the heap, sockets, the server in this same process). Holding the
    // whole stream would add 200 MiB to both.
    expect(growth.arrayBuffers).toBeLessThan(48 * MiB + partSize);
    expect(growth.rss).toBeLessThan(160 * MiB);

    expect(result.size).toBe(size);
    expect(progress.isMonotone()).toBe(true);
    expect(progress.last()).toEqual({ loaded: size, total: size });
    expect(await hashBody(await client.download({ key: result.key, workspaceId }))).toEqual({ sha256: source.sha256(), size });
    // ~7 s alone; with every test file running in parallel on a small CI machine, several times that.
  }, 180_000);
});

import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchingFileWriter } from '../src/storage/local/batched-writes.js';

/** Part bodies are written in batches copied out of the network chunks; the file must hold exactly the chunks. */
describe('local store: batched part writes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-part-writes-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeChunks(chunks: Buffer[]): Promise<Buffer> {
    const path = join(dir, randomBytes(8).toString('hex'));
    const handle = await open(path, 'wx');
    try {
      await pipeline(Readable.from(chunks), new BatchingFileWriter(handle));
    } finally {
      await handle.close();
    }
    return readFile(path);
  }

  it.each([
    ['no chunk', []],
    ['one byte', [1]],
    ['chunks of odd sizes straddling batch boundaries', Array.from({ length: 60 }, (_, index) => 1 + ((index * 52_361) % 120_000))],
    ['one chunk larger than two batches', [1_300_000]],
    ['exactly one batch, then one byte', [512 * 1024, 1]],
  ])('writes %s byte-exact', async (_name, sizes) => {
    const chunks = (sizes as number[]).map((size) => randomBytes(size));
    expect((await writeChunks(chunks)).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('writes what fs.createWriteStream writes, for any sequence of chunks (the library it stands in for)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 30 }), async (sizes) => {
        const chunks = sizes.map((size) => randomBytes(size));
        const path = join(dir, randomBytes(8).toString('hex'));
        await pipeline(Readable.from(chunks), createWriteStream(path, { flags: 'wx' }));
        const fromLibrary = await readFile(path);
        await rm(path);
        return (await writeChunks(chunks)).equals(fromLibrary);
      }),
      { numRuns: 40 },
    );
  });

  it('fails, rather than leave a hole, when a write fails', async () => {
    const path = join(dir, 'read-only');
    await (await open(path, 'w')).close();
    const handle = await open(path, 'r');
    try {
      await expect(pipeline(Readable.from([randomBytes(600_000)]), new BatchingFileWriter(handle))).rejects.toMatchObject({
        code: 'EBADF',
      });
    } finally {
      await handle.close();
    }
  });
});

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
// The local store's own part receiver (SHA-256 on the way, 512 KiB batched writes), as its PUT route
// runs it; the package exports no such internal, so it is read from the source.
import { receivePart } from '../../../packages/server/src/storage/local/part-receiver.js';
import { type Figure, formatNumber } from '../report/figures.js';
import type { SuiteContext } from './context.js';

/** Request bodies arrive in chunks of this size from Node's HTTP parser. */
const NETWORK_CHUNK = 64 * 1024;
const ROUNDS = 3;
const MiB = 1024 * 1024;

/** `total` bytes in fresh 64 KiB chunks, as a part body arrives from a socket. */
function networkBody(total: number): Readable {
  const pattern = createHash('sha256').update('part-writes').digest();
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const chunk = Buffer.allocUnsafe(Math.min(NETWORK_CHUNK, total - sent));
      for (let offset = 0; offset < chunk.length; offset += pattern.length) pattern.copy(chunk, offset);
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

/** The same job with the library's tools: the same SHA-256 on the way, then fs.createWriteStream's own writes. */
async function streamWritePart(body: Readable, file: string): Promise<{ size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  async function* measure(chunks: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    for await (const chunk of chunks) {
      size += chunk.length;
      hash.update(chunk);
      yield chunk;
    }
  }
  await pipeline(body, measure, createWriteStream(file, { flags: 'wx' }));
  hash.digest();
  return { size };
}

interface Pass {
  seconds: number;
  cpuSeconds: number;
}

/** Writes `parts` part files of `partBytes` each, one after another, and times it (wall and CPU). */
async function writeParts(
  dir: string,
  parts: number,
  partBytes: number,
  write: (body: Readable, file: string) => Promise<{ size: number }>,
): Promise<Pass> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let index = 0; index < parts; index++) {
    const file = join(dir, `part-${index}`);
    const written = await write(networkBody(partBytes), file);
    if (written.size !== partBytes) throw new Error(`part ${index}: wrote ${written.size} of ${partBytes} bytes`);
    await rm(file);
  }
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - start) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * Part bodies to disk, in this process: the local store's receiver (batched writes) against
 * fs.createWriteStream with the same SHA-256, alternating for three rounds. What it isolates is the
 * hand-written batching writer, the one difference between the two.
 */
export async function partWritesSuite(context: SuiteContext): Promise<Figure[]> {
  const { settings } = context;
  const dir = await mkdtemp(join(context.scratch, 'part-writes-'));
  const parts = Math.max(1, Math.round(settings.transferBytes / settings.partSize));
  const ours: Pass[] = [];
  const library: Pass[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      library.push(await writeParts(dir, parts, settings.partSize, streamWritePart));
      ours.push(await writeParts(dir, parts, settings.partSize, (body, file) => receivePart(body, file)));
      const rate = (pass: Pass) => formatNumber(settings.transferBytes / MiB / pass.seconds);
      console.log(`  round ${round}: fs.createWriteStream ${rate(library.at(-1)!)} MiB/s; receivePart ${rate(ours.at(-1)!)} MiB/s`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const mib = settings.transferBytes / MiB;
  const oursRate = median(ours.map((pass) => mib / pass.seconds));
  const libraryRate = median(library.map((pass) => mib / pass.seconds));
  const gib = settings.transferBytes / 1024 ** 3;
  const cpuPerGib = (passes: Pass[]) => formatNumber(median(passes.map((pass) => pass.cpuSeconds)) / gib);
  const ratios = ours.map((pass, index) => (library[index]!.seconds / pass.seconds).toFixed(2)).join(', ');
  return [
    {
      id: 'part-writes.receiver',
      suite: 'part-writes',
      name: `Part bodies to disk: the local store's receiver, ${parts} × ${settings.partSize / MiB} MiB in 64 KiB chunks (in process)`,
      value: oursRate,
      unit: 'MiB/s',
      better: 'higher',
      baseline: { name: 'the same SHA-256 and fs.createWriteStream', value: libraryRate },
      bars: [],
      detail:
        `median of ${ROUNDS} rounds, alternating (ratios by round: ${ratios}); CPU per GiB ${cpuPerGib(ours)} s ` +
        `against ${cpuPerGib(library)} s; decides whether batched-writes.ts stays (it must gain 1.5×)`,
    },
  ];
}

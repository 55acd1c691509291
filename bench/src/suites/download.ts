import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createS3ServiceClient } from '@s3-service/client';
import type { Figure } from '../report/figures.js';
import { type ChildServer, startChildServer } from '../support/child-server.js';
import { writeRandomFile } from '../support/data-file.js';
import { download, slowDownload } from '../support/http.js';
import { MiB, median, mibPerSecond, timed } from '../support/timing.js';
import type { SuiteContext } from './context.js';

const WORKSPACE = 'bench';
/** Alternating pairs of the big download: the load of a shared machine shifts between runs. */
const REPETITIONS = 5;
/** The bound on the server's RSS growth during downloads. */
const RSS_BAR = { kind: 'value', atMost: 64 } as const;
/** RSS is sampled, and the allocator returns memory lazily: growth under 1 MiB is noise and counts as 1 MiB. */
const RSS_RESOLUTION_MIB = 1;

interface Measured {
  mibPerSecond: number;
  rssGrowthMiB: number;
}

/**
 * `GET /s3/download` (local-disk store, service in its own process) against a plain node:http
 * server piping fs.createReadStream of the same bytes (the source file: the store keeps an object
 * as segment files, which the plain server could not serve as one), each
 * server's RSS sampled in its own process: one big download, many parallel ones, and a slow reader.
 */
export async function downloadSuite(context: SuiteContext): Promise<Figure[]> {
  const { settings } = context;
  const dir = await mkdtemp(join(context.scratch, 'download-'));
  const smallFile = join(context.scratch, 'parallel-download.bin');
  await writeRandomFile(smallFile, settings.parallelDownloadBytes);
  const api = await startChildServer('api-server', {
    env: { BENCH_SERVER_CONFIG: JSON.stringify({ store: { kind: 'local', dir } }) },
  });
  try {
    const client = createS3ServiceClient({ url: api.url });
    const upload = (path: string) =>
      client.upload(path, { workspaceId: WORKSPACE, partSize: 64 * MiB, fileType: 'application/octet-stream' });
    const bigFile = await context.dataFile();
    const big = await upload(bigFile);
    const small = await upload(smallFile);
    const objectUrl = (key: string) => `${api.url}/s3/download?${new URLSearchParams({ workspaceId: WORKSPACE, key })}`;

    const plain = await startChildServer('file-server', { env: { BENCH_FILES: JSON.stringify({ big: bigFile, small: smallFile }) } });
    const { single, parallel, slow } = await measureAll(
      context,
      { server: api, big: objectUrl(big.key), small: objectUrl(small.key) },
      { server: plain, big: `${plain.url}/big`, small: `${plain.url}/small` },
      settings,
    ).finally(() => plain.stop());

    const sizeText = `${settings.transferBytes / MiB} MiB`;
    const rssFigure = (id: string, name: string, ours: number, plain: number, detail: string): Figure => ({
      id,
      suite: 'download',
      name,
      value: ours,
      unit: 'MiB RSS growth',
      better: 'lower',
      baseline: { name: 'plain node:http + fs.createReadStream server, same reader', value: plain },
      bars: [RSS_BAR],
      detail,
    });
    return [
      {
        id: 'download.throughput',
        suite: 'download',
        name: `\`GET /s3/download\` of ${sizeText}, local-disk store`,
        value: single.ours.mibPerSecond,
        unit: 'MiB/s',
        better: 'higher',
        baseline: { name: 'plain node:http piping fs.createReadStream of the same file', value: single.plain.mibPerSecond },
        bars: [{ kind: 'ratio', atLeast: 0.9 }],
        detail: `median of ${REPETITIONS}, alternating servers; the file is in the page cache for both`,
      },
      rssFigure(
        'download.rss-single',
        `Server RSS growth during that ${sizeText} download`,
        single.ours.rssGrowthMiB,
        single.plain.rssGrowthMiB,
        'peak minus before, sampled every 5 ms in the server process',
      ),
      rssFigure(
        'download.rss-parallel',
        `Server RSS growth, ${settings.parallelDownloads} parallel downloads of ${settings.parallelDownloadBytes / MiB} MiB`,
        parallel.ours.rssGrowthMiB,
        parallel.plain.rssGrowthMiB,
        `aggregate ${parallel.ours.mibPerSecond.toFixed(0)} MiB/s (plain: ${parallel.plain.mibPerSecond.toFixed(0)} MiB/s)`,
      ),
      rssFigure(
        'download.rss-slow-reader',
        `Server RSS growth, one reader taking ${settings.slowReaderBytesPerSecond / 1024} KiB/s for ${settings.slowReaderSeconds} s`,
        slow.ours.rssGrowthMiB,
        slow.plain.rssGrowthMiB,
        'the rest of the object must wait in the file, not in the server',
      ),
    ];
  } finally {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(smallFile, { force: true });
  }
}

/** A server and the URLs of the two objects on it. */
interface Served {
  server: ChildServer;
  big: string;
  small: string;
}

async function measureAll(context: SuiteContext, ours: Served, plain: Served, settings: SuiteContext['settings']) {
  // One download each first: lazy initialisation (JIT, buffers, the first heap growth) is not what is measured.
  await Promise.all([download(ours.small), download(plain.small)]);
  // A profile covers the service's process only; the plain server's downloads cost it nothing.
  const single = await context.profiled('download', 'single-download', ours.server, () =>
    compareSingle({ server: ours.server, url: ours.big }, { server: plain.server, url: plain.big }, settings.transferBytes),
  );
  const parallelRun = ({ server, small }: Served) =>
    measureParallel(server, small, settings.parallelDownloads, settings.parallelDownloadBytes);
  const parallel = { plain: await parallelRun(plain), ours: await parallelRun(ours) };
  const slowRun = ({ server, big }: Served) =>
    measureRss(server, () => slowDownload(big, settings.slowReaderBytesPerSecond, settings.slowReaderSeconds));
  const slow = { plain: await slowRun(plain), ours: await slowRun(ours) };
  return { single, parallel, slow };
}

interface Endpoint {
  server: ChildServer;
  url: string;
}

/** The big download, alternating between the two servers so both see the same conditions. */
async function compareSingle(ours: Endpoint, plain: Endpoint, size: number): Promise<{ ours: Measured; plain: Measured }> {
  const oursRuns: Measured[] = [];
  const plainRuns: Measured[] = [];
  for (let repetition = 0; repetition < REPETITIONS; repetition++) {
    plainRuns.push(await measureOne(plain.server, plain.url, size));
    oursRuns.push(await measureOne(ours.server, ours.url, size));
  }
  // Throughput: the middle run; memory: the worst run, since the bound must hold for every download.
  const summary = (runs: Measured[]) => ({
    mibPerSecond: median(runs.map((run) => run.mibPerSecond)),
    rssGrowthMiB: Math.max(...runs.map((run) => run.rssGrowthMiB)),
  });
  console.log(
    `  download: ours ${summary(oursRuns).mibPerSecond.toFixed(0)} MiB/s, plain ${summary(plainRuns).mibPerSecond.toFixed(0)} MiB/s`,
  );
  return { ours: summary(oursRuns), plain: summary(plainRuns) };
}

async function measureOne(server: ChildServer, url: string, size: number): Promise<Measured> {
  const { result, ms, growth } = await measureRssTimed(server, () => download(url));
  if (result.status !== 200 || result.bytes !== size)
    throw new Error(`download of ${url} answered ${result.status} with ${result.bytes} bytes`);
  return { mibPerSecond: mibPerSecond(size, ms), rssGrowthMiB: growth };
}

async function measureParallel(server: ChildServer, url: string, count: number, size: number): Promise<Measured> {
  const { result, ms, growth } = await measureRssTimed(server, () => Promise.all(Array.from({ length: count }, () => download(url))));
  if (result.some((one) => one.status !== 200 || one.bytes !== size)) throw new Error(`a parallel download of ${url} failed`);
  return { mibPerSecond: mibPerSecond(size * count, ms), rssGrowthMiB: growth };
}

async function measureRss(server: ChildServer, run: () => Promise<{ status: number; bytes: number }>): Promise<Measured> {
  const { result, ms, growth } = await measureRssTimed(server, run);
  if (result.status !== 200) throw new Error(`the slow download answered ${result.status}`);
  return { mibPerSecond: mibPerSecond(result.bytes, ms), rssGrowthMiB: growth };
}

async function measureRssTimed<T>(server: ChildServer, run: () => Promise<T>): Promise<{ result: T; ms: number; growth: number }> {
  const { result: timedRun, before, peak } = await server.measureRss(() => timed(run));
  return { result: timedRun.result, ms: timedRun.ms, growth: Math.max(RSS_RESOLUTION_MIB, (peak - before) / MiB) };
}

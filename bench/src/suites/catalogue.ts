import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type AssetRecord, type Catalog, createS3Store, openPgliteCatalog, openPostgresCatalog, type QuotaRules } from '@s3-service/server';
import { type Figure, formatNumber } from '../report/figures.js';
import { type ChildServer, startChildServer } from '../support/child-server.js';
import type { S3Emulator } from '../support/emulator.js';
import { exchange } from '../support/http.js';
import { uploadOnePart } from '../support/one-part-upload.js';
import { type BenchPostgres, isPostgresSkipped, startPostgres } from '../support/postgres.js';
import { scratchFolders } from '../support/scratch-folders.js';
import { collectGarbage, median } from '../support/timing.js';
import type { SuiteContext } from './context.js';
import { s3Options } from './upload.js';

/** The page every listing asks for: object.list's default, and what the web client shows. */
const PAGE = 100;
/** object.list calls per workspace size, engine and round (a call takes a few ms). */
const LIST_CALLS = 10;
/** ListObjectsV2 + HEAD pages per workspace size and round (a page takes 100 HEADs). */
const OLD_LIST_CALLS = 3;
/** Seed PUTs in flight. */
const SEED_CONCURRENCY = 16;
/** Uploads before the measured rounds, per engine: connections, JIT, PGlite's caches. */
const WARM_UP_UPLOADS = 5;
/** A quota in force, as WORKSPACE_QUOTA_BYTES sets one: every check then reads the workspace's row under its lock and sums the open uploads. */
const QUOTAS: QuotaRules = { defaultQuotaBytes: 2 ** 40 };
/** The one-part upload of the end-to-end rows. */
const PART_BYTES = 1024;
/** The brief's bars: a page at least 10x faster than ListObjectsV2 + HEAD; the catalogue's calls on start + complete under 2 ms (p50). */
const LIST_BARS = [{ kind: 'ratio', atLeast: 10 }] as const;
const CALL_BARS = [{ kind: 'value', atMost: 2 }] as const;

type Engine = 'pglite' | 'postgres';
const ENGINE_NAMES: Record<Engine, string> = { pglite: 'PGlite', postgres: 'PostgreSQL' };

/** Per round, the median (list) or p50 (uploads) of that round's calls, in ms. */
type Rounds = number[];

/**
 * The asset catalogue: `object.list` (one SQL query a page) against the listing it replaced
 * (ListObjectsV2 and a HEAD per object, the store's `listObjects`), in workspaces of several
 * sizes, and the latency the catalogue adds to upload.start + upload.complete, in process on
 * PGlite and on a real PostgreSQL server, beside the whole start + complete through the API.
 */
export async function catalogueSuite(context: SuiteContext): Promise<Figure[]> {
  const { settings } = context;
  const started = await startPostgres({ workDir: settings.workDir });
  let postgres: BenchPostgres | undefined;
  if (isPostgresSkipped(started)) context.notes.push(`catalogue: the PostgreSQL rows were skipped: ${started.skipped}`);
  else postgres = started;
  const engines: Engine[] = postgres ? ['pglite', 'postgres'] : ['pglite'];
  try {
    if (postgres) console.log(`  ${postgres.version} on ${postgres.url} (fsync and synchronous commit on)`);
    const figures: Figure[] = [];
    const emulator = await context.emulator();
    if (emulator) figures.push(...(await measureListing(context, emulator, engines, postgres)));
    else
      context.notes.push(
        'catalogue: the object.list rows were skipped: they compare with ListObjectsV2 on S3, and no S3 server was available.',
      );
    figures.push(...(await measureUploads(context, engines, postgres)));
    return figures;
  } finally {
    await postgres?.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// object.list against ListObjectsV2 + HEAD

interface ListSample {
  size: number;
  workspaceId: string;
  old: Rounds;
  /** object.list's default order, newest first: the figures. */
  ours: Record<Engine, Rounds>;
  /** The same page in order `name`, on its own index: beside them, to tell the query from the rest. */
  byName: Record<Engine, Rounds>;
}

type Order = 'newest' | 'name';

async function measureListing(
  context: SuiteContext,
  emulator: S3Emulator,
  engines: Engine[],
  postgres: BenchPostgres | undefined,
): Promise<Figure[]> {
  const { settings } = context;
  const runId = randomBytes(3).toString('hex');
  const workspaces = settings.catalogueAssets.map((size) => ({ size, workspaceId: `bench-list-${runId}-${size}` }));
  const pgliteDir = await mkdtemp(join(context.scratch, 'catalogue-list-pglite-'));
  const servers: Partial<Record<Engine, ChildServer>> = {};
  const store = createS3Store(s3Options(emulator));
  try {
    await seed(context, emulator, workspaces, pgliteDir, postgres);
    const storeConfig = { kind: 's3', ...s3Options(emulator) };
    servers.pglite = await startChildServer('api-server', {
      env: { BENCH_SERVER_CONFIG: JSON.stringify({ store: storeConfig, catalog: { kind: 'pglite', dataDir: pgliteDir } }) },
    });
    if (postgres) {
      servers.postgres = await startChildServer('api-server', {
        env: { BENCH_SERVER_CONFIG: JSON.stringify({ store: storeConfig, catalog: { kind: 'postgres', url: postgres.url } }) },
      });
    }

    const listUrl = (server: ChildServer, workspaceId: string, order: Order) =>
      `${server.url}/trpc/object.list?input=${encodeURIComponent(JSON.stringify({ json: { workspaceId, limit: PAGE, order } }))}`;
    const ours = async (engine: Engine, workspaceId: string, order: Order) => {
      const url = listUrl(servers[engine]!, workspaceId, order);
      const start = performance.now();
      const answer = await exchange(url);
      const ms = performance.now() - start;
      if (answer.status !== 200) throw new Error(`object.list answered ${answer.status}`);
      return ms;
    };
    const old = async (workspaceId: string) => {
      const start = performance.now();
      await store.listObjects(`${workspaceId}/digital_assets/`, { limit: PAGE });
      return performance.now() - start;
    };

    // Both answer a full page before anything is timed (and warm up connections and caches).
    for (const { size, workspaceId } of workspaces) {
      const expected = Math.min(PAGE, size);
      const page = await store.listObjects(`${workspaceId}/digital_assets/`, { limit: PAGE });
      if (page.objects.length !== expected) throw new Error(`listObjects gave ${page.objects.length} objects, not ${expected}`);
      for (const engine of engines) {
        for (const order of ['newest', 'name'] as const) {
          const answer = (await (await fetch(listUrl(servers[engine]!, workspaceId, order))).json()) as {
            result: { data: { json: { objects: unknown[] } } };
          };
          const listed = answer.result.data.json.objects.length;
          if (listed !== expected) throw new Error(`object.list (${engine}, ${order}) gave ${listed} objects, not ${expected}`);
          for (let call = 0; call < 5; call++) await ours(engine, workspaceId, order);
        }
      }
      await old(workspaceId);
      await old(workspaceId);
    }

    const samples: ListSample[] = workspaces.map(({ size, workspaceId }) => ({
      size,
      workspaceId,
      old: [],
      ours: { pglite: [], postgres: [] },
      byName: { pglite: [], postgres: [] },
    }));
    for (let round = 0; round < settings.catalogueRounds; round++) {
      for (const sample of samples) {
        const runOld = async () => sample.old.push(median(await repeat(OLD_LIST_CALLS, () => old(sample.workspaceId))));
        const runOurs = async () => {
          for (const engine of engines) {
            sample.ours[engine].push(median(await repeat(LIST_CALLS, () => ours(engine, sample.workspaceId, 'newest'))));
            sample.byName[engine].push(median(await repeat(LIST_CALLS, () => ours(engine, sample.workspaceId, 'name'))));
          }
        };
        // Alternating which goes first, so neither always runs on the other's warmed-up caches.
        if (round % 2 === 0) {
          await runOld();
          await runOurs();
        } else {
          await runOurs();
          await runOld();
        }
        const last = (rounds: Rounds) => formatNumber(rounds.at(-1)!);
        console.log(
          `  round ${round + 1}, ${sample.size} assets: ListObjectsV2+HEAD ${last(sample.old)} ms; object.list ` +
            engines
              .map((engine) => `${ENGINE_NAMES[engine]} ${last(sample.ours[engine])} ms (by name ${last(sample.byName[engine])})`)
              .join(', '),
        );
      }
    }
    return listFigures(context, samples, engines);
  } finally {
    for (const server of Object.values(servers)) await server.stop();
    await store.close?.();
    await rm(pgliteDir, { recursive: true, force: true });
  }
}

/**
 * The objects (small PUTs to versitygw) and their rows (catalog.importAsset, one transaction
 * each, as reconciliation adds them) in every catalogue, all at once.
 */
async function seed(
  context: SuiteContext,
  emulator: S3Emulator,
  workspaces: Array<{ size: number; workspaceId: string }>,
  pgliteDir: string,
  postgres: BenchPostgres | undefined,
): Promise<void> {
  const start = performance.now();
  const body = Buffer.from('catalogue bench object\n');
  const etag = `"${createHash('md5').update(body).digest('hex')}"`;
  const createdFrom = Date.now() - 86_400_000;
  const assets: AssetRecord[] = workspaces.flatMap(({ size, workspaceId }) =>
    Array.from({ length: size }, (_, index) => {
      const assetId = newAssetId();
      return {
        workspaceId,
        assetId,
        key: `${workspaceId}/digital_assets/${assetId}`,
        fileName: `photo-${String(index).padStart(6, '0')}.jpg`,
        fileType: 'image/jpeg',
        size: body.length,
        etag,
        checksum: null,
        createdAt: new Date(createdFrom + index * 1000),
        createdBy: null,
      };
    }),
  );
  console.log(
    `  seeding ${assets.length.toLocaleString('en-US')} assets (${workspaces.map((w) => w.size).join(' / ')}) into versitygw and the catalogues`,
  );
  const client = new S3Client({
    ...s3Options(emulator),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const pglite = await openPgliteCatalog({ dataDir: pgliteDir });
  const pg = postgres ? await openPostgresCatalog({ url: postgres.url }) : undefined;
  try {
    // A bulk import ends with fresh planner statistics, as catalog:sync ends one (PostgreSQL's
    // autovacuum would get there within a minute; PGlite has none).
    const importInto = async (catalog: Catalog) => {
      for (const asset of assets) await catalog.importAsset(asset);
      await catalog.refreshStatistics();
    };
    await Promise.all([
      eachLimited(assets, SEED_CONCURRENCY, (asset) =>
        client.send(new PutObjectCommand({ Bucket: emulator.bucket, Key: asset.key, Body: body, ContentType: asset.fileType })),
      ),
      importInto(pglite),
      pg ? importInto(pg) : undefined,
    ]);
  } finally {
    client.destroy();
    await pglite.close();
    await pg?.close();
  }
  console.log(`  seeded in ${((performance.now() - start) / 1000).toFixed(0)} s`);
  context.notes.push(
    `catalogue: seeded ${assets.length.toLocaleString('en-US')} objects (small PUTs) and their rows (catalog.importAsset) in ${((performance.now() - start) / 1000).toFixed(0)} s`,
  );
}

function listFigures(context: SuiteContext, samples: ListSample[], engines: Engine[]): Figure[] {
  const figures: Figure[] = [];
  const range = (rounds: Rounds) => `${formatNumber(Math.min(...rounds))}–${formatNumber(Math.max(...rounds))} ms`;
  for (const engine of engines) {
    for (const sample of samples) {
      const ours = sample.ours[engine];
      const byRound = ours.map((value, index) => formatNumber(sample.old[index]! / value)).join(', ');
      figures.push({
        id: `catalogue.list-${engine}-${sample.size}`,
        suite: 'catalogue',
        name: `tRPC \`object.list\`, a page of ${PAGE} of ${sample.size.toLocaleString('en-US')} assets (newest first, the default), S3 driver on versitygw, catalogue on ${ENGINE_NAMES[engine]}`,
        value: median(ours),
        unit: 'ms/page',
        better: 'lower',
        baseline: { name: `the store's ListObjectsV2 + a HEAD per object (\`listObjects\`, in process)`, value: median(sample.old) },
        bars: [...LIST_BARS],
        detail:
          `median of ${ours.length} rounds alternating with the baseline (each the median of ${LIST_CALLS} calls against ${OLD_LIST_CALLS}; ` +
          `ratios by round: ${byRound}); spread ${range(ours)} against ${range(sample.old)}; client wall over HTTP (tRPC, superjson, ` +
          `one SQL query) against the old listing called in this process, without HTTP; the same page by name (order \`name\`): ` +
          `${formatNumber(median(sample.byName[engine]))} ms`,
      });
    }
  }
  if (samples.length >= 2) {
    const smallest = samples[0]!;
    const largest = samples.at(-1)!;
    const growth = (from: Rounds, to: Rounds) => `×${formatNumber(median(to) / median(from))}`;
    const sizes = `${smallest.size.toLocaleString('en-US')} → ${largest.size.toLocaleString('en-US')} assets`;
    // Flat: the largest workspace's page within 1.5x of the smallest's (rounds on this VM spread about that much).
    const verdict = (from: Rounds, to: Rounds) => `${growth(from, to)} (${median(to) / median(from) <= 1.5 ? 'flat' : '**grows**'})`;
    const ours = engines.map(
      (engine) =>
        `${ENGINE_NAMES[engine]} newest first ${verdict(smallest.ours[engine], largest.ours[engine])}, ` +
        `by name ${verdict(smallest.byName[engine], largest.byName[engine])}`,
    );
    const line = `catalogue: time per page from ${sizes}: object.list ${ours.join('; ')}; ListObjectsV2 + HEAD ${growth(smallest.old, largest.old)}`;
    console.log(`  ${line}`);
    context.notes.push(line);
  }
  return figures;
}

// ---------------------------------------------------------------------------------------------
// What the catalogue adds to upload.start + upload.complete

/**
 * The catalogue's calls of one upload, in the order the server makes them (see assets/uploads.ts):
 * beginUpload at start; at complete findUpload, reserve (skipped when the declared size already
 * covers the upload) and recordCompleted.
 */
const CALLS = ['beginUpload', 'findUpload', 'reserve', 'recordCompleted'] as const;
/** findUpload runs beside the store's listParts, so only these add to the wait of start + complete. */
const SERIAL_CALLS = new Set<(typeof CALLS)[number]>(['beginUpload', 'reserve', 'recordCompleted']);
const serialTotal = (calls: readonly number[]) => sum(CALLS.map((name, index) => (SERIAL_CALLS.has(name) ? calls[index]! : 0)));

interface UploadSample {
  /** Per round: p50 of the calls' total per upload, and of the end-to-end start + complete. */
  calls: Rounds;
  endToEnd: Rounds;
  /** Every upload's time per call, all rounds. */
  perCall: number[][];
  totals: number[];
}

async function measureUploads(context: SuiteContext, engines: Engine[], postgres: BenchPostgres | undefined): Promise<Figure[]> {
  const { settings } = context;
  const runId = randomBytes(3).toString('hex');
  const folders = scratchFolders(context.scratch, 'catalogue');
  const folder = folders.make;
  const catalogs: Partial<Record<Engine, Catalog>> = {};
  const servers: Partial<Record<Engine, ChildServer>> = {};
  try {
    catalogs.pglite = await openPgliteCatalog({ dataDir: await folder('calls-pglite') });
    if (postgres) catalogs.postgres = await openPostgresCatalog({ url: postgres.url });
    for (const engine of engines) {
      const catalog =
        engine === 'pglite' ? { kind: 'pglite', dataDir: await folder('api-pglite') } : { kind: 'postgres', url: postgres!.url };
      servers[engine] = await startChildServer('api-server', {
        env: {
          BENCH_SERVER_CONFIG: JSON.stringify({ store: { kind: 'local', dir: await folder(`store-${engine}`) }, catalog, quotas: QUOTAS }),
        },
      });
    }

    const samples: Record<Engine, UploadSample> = {
      pglite: { calls: [], endToEnd: [], perCall: [], totals: [] },
      postgres: { calls: [], endToEnd: [], perCall: [], totals: [] },
    };
    const callsWorkspace = (engine: Engine) => `bench-calls-${runId}-${engine}`;
    const apiWorkspace = `bench-api-${runId}`;
    for (const engine of engines) {
      await repeat(WARM_UP_UPLOADS, () => uploadThroughCatalog(catalogs[engine]!, callsWorkspace(engine)));
      await repeat(WARM_UP_UPLOADS, () => uploadThroughApi(servers[engine]!.url, apiWorkspace));
    }
    collectGarbage();
    for (let round = 0; round < settings.catalogueRounds; round++) {
      const order = round % 2 === 0 ? engines : [...engines].reverse();
      for (const engine of order) {
        const sample = samples[engine];
        const runCalls = async () => {
          const uploads = await repeat(settings.catalogueUploads, () => uploadThroughCatalog(catalogs[engine]!, callsWorkspace(engine)));
          const totals = uploads.map(serialTotal);
          sample.perCall.push(...uploads);
          sample.totals.push(...totals);
          sample.calls.push(median(totals));
        };
        const runApi = async () =>
          sample.endToEnd.push(median(await repeat(settings.catalogueUploads, () => uploadThroughApi(servers[engine]!.url, apiWorkspace))));
        if (round % 2 === 0) {
          await runCalls();
          await runApi();
        } else {
          await runApi();
          await runCalls();
        }
        console.log(
          `  round ${round + 1}, ${ENGINE_NAMES[engine]}: catalogue calls p50 ${formatNumber(sample.calls.at(-1)!)} ms; ` +
            `start + complete through the API p50 ${formatNumber(sample.endToEnd.at(-1)!)} ms`,
        );
      }
    }
    return engines.map((engine) => uploadFigure(engine, samples[engine], settings.catalogueUploads, postgres));
  } finally {
    for (const server of Object.values(servers)) await server.stop();
    for (const catalog of Object.values(catalogs)) await catalog.close();
    await folders.removeAll();
  }
}

/**
 * One upload's catalogue calls, back to back, as upload.start and upload.complete make them for a
 * client that sends the file's size (the client does): the row (and its reservation) at start; at
 * complete, the row read, the reservation grown if the real size needs it, and the asset recorded.
 */
async function uploadThroughCatalog(catalog: Catalog, workspaceId: string): Promise<number[]> {
  const assetId = newAssetId();
  const key = `${workspaceId}/digital_assets/${assetId}`;
  const uploadId = randomBytes(48).toString('base64url');
  const times: number[] = [];
  let mark = performance.now();
  const lap = () => {
    const now = performance.now();
    times.push(now - mark);
    mark = now;
  };
  await catalog.beginUpload(
    {
      workspaceId,
      uploadId,
      assetId,
      key,
      fileName: 'bench.bin',
      fileType: 'application/octet-stream',
      declaredSize: PART_BYTES,
      partSize: PART_BYTES,
      startedBy: null,
      startedAt: new Date(),
    },
    QUOTAS,
  );
  lap();
  const known = await catalog.findUpload(workspaceId, uploadId);
  lap();
  if (!known) throw new Error('findUpload did not find the upload just begun');
  // As the server does: complete grows the reservation only past what the upload already holds.
  if (PART_BYTES > known.reservedBytes) await catalog.reserve(workspaceId, uploadId, PART_BYTES, QUOTAS);
  lap();
  await catalog.recordCompleted(known, { size: PART_BYTES, etag: '"bench-etag-1"', checksum: null, createdAt: new Date() });
  lap();
  // Not part of the upload: one trivial statement (`select 1`), the floor of each of the calls' statements.
  await catalog.checkReady();
  lap();
  return times;
}

const partBody = Buffer.alloc(PART_BYTES, 'catalogue');

/** start + complete of a one-part upload through the API, as the client makes it. */
async function uploadThroughApi(url: string, workspaceId: string): Promise<number> {
  const times = await uploadOnePart(url, workspaceId, partBody);
  return times.startMs + times.completeMs;
}

function uploadFigure(engine: Engine, sample: UploadSample, uploadsPerRound: number, postgres: BenchPostgres | undefined): Figure {
  const value = median(sample.calls);
  const endToEnd = median(sample.endToEnd);
  const range = (rounds: Rounds) => `${formatNumber(Math.min(...rounds))}–${formatNumber(Math.max(...rounds))} ms`;
  const perCall = CALLS.map((name, index) => `${name} ${formatNumber(median(sample.perCall.map((calls) => calls[index]!)))}`).join(', ');
  const allCalls = median(sample.perCall.map((calls) => sum(calls.slice(0, CALLS.length))));
  const oneStatement = median(sample.perCall.map((calls) => calls[CALLS.length]!));
  const engineText =
    engine === 'pglite'
      ? 'PGlite in a folder, in process'
      : `${postgres?.version ?? 'PostgreSQL'} on loopback, fsync and synchronous commit on`;
  return {
    id: `catalogue.upload-calls-${engine}`,
    suite: 'catalogue',
    name: `The catalogue's added latency on upload.start + upload.complete (${[...SERIAL_CALLS].join(' + ')}), ${ENGINE_NAMES[engine]}: p50`,
    value,
    unit: 'ms',
    better: 'lower',
    baseline: {
      name: `the whole upload.start + upload.complete of a one-part upload through the API, local-disk store, catalogue on ${ENGINE_NAMES[engine]} (p50, client wall)`,
      value: endToEnd,
    },
    bars: [...CALL_BARS],
    detail:
      `${engineText}; median of ${sample.calls.length} rounds' p50s of ${uploadsPerRound} uploads each, alternating with the API rounds; ` +
      `spread ${range(sample.calls)} against ${range(sample.endToEnd)}; pooled p90 ${formatNumber(percentile(sample.totals, 0.9))} ms; ` +
      `pooled over every upload, p50 per call (ms): ${perCall}; one statement alone (checkReady, select 1) ${formatNumber(oneStatement)} ms; ` +
      `findUpload runs beside the store's listParts and is left out; with it, all four calls back to back ${formatNumber(allCalls)} ms; ` +
      `about ${Math.round((value / endToEnd) * 100)}% of the API's start + complete (its server is another process, its catalogue that process's)`,
  };
}

// ---------------------------------------------------------------------------------------------

/** As the server makes them (storage/keys.ts): 128 random bits, URL-safe, starting with a letter or digit. */
function newAssetId(): string {
  return randomBytes(16).toString('base64url').replace(/^[-_]/, 'a');
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

async function repeat<T>(times: number, run: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let index = 0; index < times; index++) results.push(await run());
  return results;
}

async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3Store, type ObjectStore, type S3StoreOptions } from '@s3-service/server';
import type { Figure } from '../report/figures.js';
import { startChildServer } from '../support/child-server.js';
import { exchange, trpcMutation } from '../support/http.js';
import { collectGarbage, median, timed } from '../support/timing.js';
import type { SuiteContext } from './context.js';

const REPETITIONS = 5;
const EXPIRES_IN = 3600;
/** The bars: at most 10 µs per URL, at least 30 times faster than getSignedUrl. */
const SIGNING_BARS = [
  { kind: 'value', atMost: 10 },
  { kind: 'ratio', atLeast: 30 },
] as const;

/**
 * Part-URL signing: the driver's batch signer and `upload.signParts` over HTTP, against the
 * SDK's getSignedUrl per part (the driver's previous code) and against the floor of the work,
 * one SHA-256 and one HMAC per URL. Signing needs no S3 round trip, so without versitygw the
 * in-process figures still run (against an endpoint nobody listens on); the HTTP one does not.
 */
export async function signingSuite(context: SuiteContext): Promise<Figure[]> {
  const { settings } = context;
  const emulator = await context.emulator();
  const options: S3StoreOptions = emulator
    ? {
        bucket: emulator.bucket,
        region: emulator.region,
        endpoint: emulator.endpoint,
        forcePathStyle: emulator.forcePathStyle,
        credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
      }
    : {
        bucket: 'bench',
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9',
        forcePathStyle: true,
        credentials: { accessKeyId: 'BENCH', secretAccessKey: 'bench-secret' },
      };
  const key = `bench/digital_assets/${randomBytes(16).toString('base64url')}`;
  const partNumbers = Array.from({ length: settings.signParts }, (_, index) => index + 1);

  const sdk = await measureGetSignedUrl(options, key, settings.sdkSignParts);
  console.log(`  getSignedUrl: ${sdk.cpu.toFixed(1)} µs CPU per URL (${sdk.wall.toFixed(1)} µs wall)`);

  const store = createS3Store(options);
  const signed = await context.profiled('signing', 'store-sign-part-urls', undefined, () => measureStoreSigning(store, key, partNumbers));
  await store.close?.();
  console.log(`  store.signPartUrls: ${signed.cpu.toFixed(2)} µs CPU per URL (${signed.wall.toFixed(2)} µs wall)`);
  const floor = measureHashFloor(signed.sampleUrl, settings.signParts);

  const baseline = { name: `getSignedUrl per part (${settings.sdkSignParts} parts; ${sdk.wall.toFixed(0)} µs wall)`, value: sdk.cpu };
  const figures: Figure[] = [
    {
      id: 'signing.store',
      suite: 'signing',
      name: `S3 driver \`signPartUrls\`, ${settings.signParts.toLocaleString('en-US')} parts in one batch (in process)`,
      value: signed.cpu,
      unit: 'µs CPU/URL',
      better: 'lower',
      baseline,
      bars: [...SIGNING_BARS],
      detail: `median of ${REPETITIONS} batches, each for a new upload id; wall ${signed.wall.toFixed(2)} µs/URL`,
    },
    {
      id: 'signing.floor',
      suite: 'signing',
      name: 'Floor: SHA-256 of a canonical request + HMAC-SHA256 of the string to sign, per URL (node:crypto)',
      value: floor.cpu,
      unit: 'µs CPU/URL',
      better: 'lower',
      baseline,
      bars: [],
      detail: `what SigV4 cannot share between parts; the driver continues the SHA-256 from a copied hash state, so it can come in under this; wall ${floor.wall.toFixed(2)} µs/URL`,
    },
  ];

  if (!emulator) {
    context.notes.push('signing: `upload.signParts` over HTTP was skipped: it checks the upload on S3, and no S3 server was available.');
    return figures;
  }
  figures.push(await measureSignPartsOverHttp(context, options, partNumbers, baseline));
  return figures;
}

/** Per URL, microseconds of CPU time (what the code costs) and of wall time (what a caller waits). */
interface PerUrl {
  cpu: number;
  wall: number;
}

/** The driver's previous code: getSignedUrl for every part, all at once. */
async function measureGetSignedUrl(options: S3StoreOptions, key: string, parts: number): Promise<PerUrl> {
  const client = new S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const uploadId = randomBytes(24).toString('base64url');
  const signAll = (count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, index) =>
        getSignedUrl(client, new UploadPartCommand({ Bucket: options.bucket, Key: key, UploadId: uploadId, PartNumber: index + 1 }), {
          expiresIn: EXPIRES_IN,
          signingDate: new Date(),
        }),
      ),
    );
  await signAll(Math.min(200, parts));
  const { ms, cpuMs } = await timed(() => signAll(parts));
  client.destroy();
  return { cpu: (cpuMs * 1000) / parts, wall: (ms * 1000) / parts };
}

async function measureStoreSigning(store: ObjectStore, key: string, partNumbers: number[]): Promise<PerUrl & { sampleUrl: string }> {
  const sign = () => store.signPartUrls(key, randomBytes(24).toString('base64url'), partNumbers, EXPIRES_IN);
  const [sampleUrl] = await sign();
  collectGarbage();
  const runs: Array<{ ms: number; cpuMs: number }> = [];
  for (let repetition = 0; repetition < REPETITIONS; repetition++) runs.push(await timed(sign));
  return { ...perUrl(runs, partNumbers.length), sampleUrl: sampleUrl! };
}

/** Medians over the runs, per URL, in microseconds. */
function perUrl(runs: ReadonlyArray<{ ms: number; cpuMs: number }>, urls: number): PerUrl {
  return { cpu: (median(runs.map((run) => run.cpuMs)) * 1000) / urls, wall: (median(runs.map((run) => run.ms)) * 1000) / urls };
}

/**
 * The least work a SigV4 presign can do per URL: hash a canonical request (here a text as long
 * as the URL, which is about its length) and HMAC a string to sign with a derived key.
 */
function measureHashFloor(sampleUrl: string, count: number): PerUrl {
  const canonical = sampleUrl;
  const signingKey = randomBytes(32);
  const stringToSignHead = 'AWS4-HMAC-SHA256\n20300101T000000Z\n20300101/us-east-1/s3/aws4_request\n';
  const run = () => {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let index = 0; index < count; index++) {
      const hash = createHash('sha256')
        .update(canonical + index)
        .digest('hex');
      createHmac('sha256', signingKey)
        .update(stringToSignHead + hash)
        .digest('hex');
    }
    const used = process.cpuUsage(cpu);
    return { ms: Number(process.hrtime.bigint() - start) / 1e6, cpuMs: (used.user + used.system) / 1000 };
  };
  run();
  return perUrl(Array.from({ length: REPETITIONS }, run), count);
}

/**
 * `upload.signParts` through the real stack (Express, tRPC, zod, superjson) in its own process.
 * Server time runs from the request's arrival to its last byte handed to the socket; the client
 * reads the answer without parsing it.
 */
async function measureSignPartsOverHttp(
  context: SuiteContext,
  options: S3StoreOptions,
  partNumbers: number[],
  baseline: Figure['baseline'],
): Promise<Figure> {
  const server = await startChildServer('api-server', {
    env: { BENCH_SERVER_CONFIG: JSON.stringify({ store: { kind: 's3', ...options }, recordTimings: true }) },
  });
  try {
    const workspaceId = 'bench';
    const upload = await trpcMutation<{ uploadId: string; assetId: string }>(server.url, 'upload.start', {
      workspaceId,
      fileType: 'application/octet-stream',
    });
    const body = JSON.stringify({ json: { workspaceId, assetId: upload.assetId, uploadId: upload.uploadId, partNumbers } });
    const call = () => exchange(`${server.url}/trpc/upload.signParts`, { method: 'POST', body });
    const first = await call();
    if (first.status !== 200) throw new Error(`upload.signParts answered ${first.status}`);
    await server.takeTimings();
    const client: number[] = [];
    await context.profiled('signing', 'trpc-sign-parts', server, async () => {
      for (let repetition = 0; repetition < REPETITIONS; repetition++) client.push((await timed(call)).ms);
    });
    const inServer = perUrl(await server.takeTimings(), partNumbers.length);
    const micros = (ms: number) => ((ms * 1000) / partNumbers.length).toFixed(2);
    console.log(
      `  upload.signParts over HTTP: ${inServer.cpu.toFixed(2)} µs CPU per URL in the server (${inServer.wall.toFixed(2)} µs wall)`,
    );
    return {
      id: 'signing.trpc',
      suite: 'signing',
      name: `tRPC \`upload.signParts\`, ${partNumbers.length.toLocaleString('en-US')} parts, S3 driver on versitygw: server time`,
      value: inServer.cpu,
      unit: 'µs CPU/URL',
      better: 'lower',
      baseline,
      bars: [...SIGNING_BARS],
      detail:
        `server CPU from the request's arrival to its last byte, median of ${REPETITIONS} calls: the upload check on S3, validation, ` +
        `signing, superjson and a ${(first.bytes / 1024 / 1024).toFixed(1)} MiB JSON answer; server wall ${inServer.wall.toFixed(2)} µs/URL, ` +
        `client wall ${micros(median(client))} µs/URL`,
    };
  } finally {
    await server.stop();
  }
}

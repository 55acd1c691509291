import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createS3ServiceClient } from '@s3-service/client';
import { type Figure, formatNumber } from '../report/figures.js';
import { startChildServer } from '../support/child-server.js';
import type { S3Emulator } from '../support/emulator.js';
import { MiB, median, mibPerSecond, timed } from '../support/timing.js';
import type { SuiteContext } from './context.js';

const CONCURRENCY = 4;
const WORKSPACE = 'bench';
/**
 * The local-disk comparison alternates fs and the service this many times and takes medians: on a
 * shared VM the disk's speed swings by 2-3x within minutes, and one pair of runs caught it apart.
 */
const LOCAL_ROUNDS = 3;

/** One transfer: wall time, and the CPU every process of the transfer spent. */
interface Transfer {
  ms: number;
  cpuMs: number;
}

/**
 * The upload data plane: `client.upload` of the data file through the service, to the local-disk
 * store against `fs` writing the same bytes to the same disk, and to the S3 driver on versitygw
 * against @aws-sdk/lib-storage's Upload of the same bytes to the same endpoint.
 */
export async function uploadSuite(context: SuiteContext): Promise<Figure[]> {
  const { settings } = context;
  const data = await context.dataFile();
  const size = settings.transferBytes;
  const sizeText = `${size / MiB} MiB`;

  const { fs, local, unchecked, receiver } = await measureLocalAgainstFs(context, data);
  const fsMs = median(fs.map((run) => run.ms));
  const localMs = median(local.map((run) => run.ms));
  const roundRatios = local.map((run, index) => formatNumber(fs[index]!.ms / run.ms)).join(', ');
  const cpuPerGiB = (runs: Transfer[]) => `${(median(runs.map((run) => run.cpuMs)) / 1000 / (size / 1024 ** 3)).toFixed(1)} s`;
  const figures: Figure[] = [
    {
      id: 'upload.local',
      suite: 'upload',
      name: `\`client.upload\` of ${sizeText}, local-disk store, concurrency ${CONCURRENCY}, ${settings.partSize / MiB} MiB parts`,
      value: mibPerSecond(size, localMs),
      unit: 'MiB/s',
      better: 'higher',
      baseline: { name: 'fs stream copy of the same file to the same disk', value: mibPerSecond(size, fsMs) },
      bars: [{ kind: 'ratio', atLeast: 0.8 }],
      detail:
        `median of ${LOCAL_ROUNDS} rounds, fs and the service alternating (ratios by round: ${roundRatios}); start to complete, ` +
        `${(localMs / 1000).toFixed(1)} s (the store writes and SHA-256-hashes the parts, which become the object's segments at complete); fs: ${(fsMs / 1000).toFixed(1)} s. ` +
        `CPU per GiB, all processes: ${cpuPerGiB(local)} (client and server) against ${cpuPerGiB(fs)} for fs, on ${availableParallelism()} cores`,
    },
    ...receiverFigures({ checked: local, unchecked }, receiver, size, sizeText, settings.partSize),
    checksumFigure('upload.checksum-local', `\`client.upload\` of ${sizeText} with SHA-256 checksummed parts, local-disk store`, {
      checked: local,
      unchecked,
      size,
      cpuPerGiB,
      where: 'the client hashes each part (node:crypto) and signs 16 a call, the store hashes it again as it arrives',
    }),
  ];

  const emulator = await context.emulator();
  if (!emulator) {
    context.notes.push('upload: the S3 comparison was skipped: no S3 server (versitygw) was available.');
    return figures;
  }
  const libStorageMs = await measureLibStorage(emulator, data, settings.partSize);
  const s3Runs = await measureClientUploadS3(context, emulator, data);
  const s3Ms = median(s3Runs.checked.map((run) => run.ms));
  console.log(
    `  lib-storage: ${mibPerSecond(size, libStorageMs).toFixed(0)} MiB/s; client.upload (S3): ${mibPerSecond(size, s3Ms).toFixed(0)} MiB/s`,
  );
  figures.push({
    id: 'upload.s3',
    suite: 'upload',
    name: `\`client.upload\` of ${sizeText}, S3 driver on versitygw, concurrency ${CONCURRENCY}`,
    value: mibPerSecond(size, s3Ms),
    unit: 'MiB/s',
    better: 'higher',
    baseline: {
      name: `lib-storage \`Upload\`, queueSize ${CONCURRENCY}, same part size and endpoint`,
      value: mibPerSecond(size, libStorageMs),
    },
    bars: [{ kind: 'ratio', atLeast: 1 }],
    detail:
      `median of ${S3_ROUNDS} rounds, ${(s3Ms / 1000).toFixed(1)} s vs ${(libStorageMs / 1000).toFixed(1)} s; parts PUT straight to versitygw. ` +
      `The service's parts carry SHA-256 checksums that versitygw verifies; lib-storage sends none (the driver's WHEN_REQUIRED setting)`,
  });
  figures.push(
    checksumFigure('upload.checksum-s3', `\`client.upload\` of ${sizeText} with SHA-256 checksummed parts, S3 driver on versitygw`, {
      ...s3Runs,
      size,
      cpuPerGiB,
      where: 'the client hashes each part, versitygw verifies it',
    }),
  );
  return figures;
}

/** Rounds of the S3 upload, checksummed and not, alternating. */
const S3_ROUNDS = 3;

/** What checksummed parts cost: the same upload with `checksum: false` as the baseline, from alternating rounds. */
function checksumFigure(
  id: string,
  name: string,
  runs: { checked: Transfer[]; unchecked: Transfer[]; size: number; cpuPerGiB: (runs: Transfer[]) => string; where: string },
): Figure {
  const checkedMs = median(runs.checked.map((run) => run.ms));
  const uncheckedMs = median(runs.unchecked.map((run) => run.ms));
  const ratios = runs.checked.map((run, index) => formatNumber(runs.unchecked[index]!.ms / run.ms)).join(', ');
  return {
    id,
    suite: 'upload',
    name,
    value: mibPerSecond(runs.size, checkedMs),
    unit: 'MiB/s',
    better: 'higher',
    baseline: { name: 'the same upload with `checksum: false`', value: mibPerSecond(runs.size, uncheckedMs) },
    // Issue 17: checksumming may cost at most 15% of upload throughput.
    bars: [{ kind: 'ratio', atLeast: 0.85 }],
    detail:
      `median of ${runs.checked.length} rounds alternating with and without (ratios by round: ${ratios}); ${runs.where}. ` +
      `CPU per GiB, all processes: ${runs.cpuPerGiB(runs.checked)} with, ${runs.cpuPerGiB(runs.unchecked)} without`,
  };
}

/**
 * The issue-20 bars of the local data plane: the service's upload as users get it (SHA-256
 * checksummed parts, hashed by the client and again by the store, whose one pass also gives the
 * part's ETag) against the plain MD5 receiver, in throughput and in CPU; the same upload without
 * checksums (the store's one hash on the way, then disk) in the details.
 */
function receiverFigures(
  ours: { checked: Transfer[]; unchecked: Transfer[] },
  receiver: Transfer[],
  size: number,
  sizeText: string,
  partSize: number,
): Figure[] {
  const gib = size / 1024 ** 3;
  const msOf = (runs: Transfer[]) => median(runs.map((run) => run.ms));
  const cpuOf = (runs: Transfer[]) => median(runs.map((run) => run.cpuMs)) / 1000 / gib;
  const byRound = (runs: Transfer[], ratio: (run: Transfer, baseline: Transfer) => number) =>
    runs.map((run, index) => formatNumber(ratio(run, receiver[index]!))).join(', ');
  const speed = (run: Transfer, baseline: Transfer) => baseline.ms / run.ms;
  const cpu = (run: Transfer, baseline: Transfer) => run.cpuMs / baseline.cpuMs;
  const what = `${sizeText}, concurrency ${CONCURRENCY}, ${partSize / MiB} MiB parts`;
  const baseline = 'a plain `node:http` receiver: MD5 on the way, `fs.createWriteStream`, the same parts read whole and PUT by fetch';
  const unchecked = `without checksums ${mibPerSecond(size, msOf(ours.unchecked)).toFixed(0)} MiB/s, ${cpuOf(ours.unchecked).toFixed(1)} s CPU/GiB`;
  return [
    {
      suite: 'upload',
      id: 'upload.local-vs-md5-receiver',
      name: `\`client.upload\` of ${what}, local-disk store, against the plain MD5 receiver`,
      value: mibPerSecond(size, msOf(ours.checked)),
      unit: 'MiB/s',
      better: 'higher',
      baseline: { name: baseline, value: mibPerSecond(size, msOf(receiver)) },
      bars: [{ kind: 'ratio', atLeast: 0.85 }],
      detail:
        `median of ${receiver.length} rounds, alternating (ratios by round: ${byRound(ours.checked, speed)}); checksummed parts, as by default; ` +
        `${unchecked} (ratios by round: ${byRound(ours.unchecked, speed)})`,
    },
    {
      suite: 'upload',
      id: 'upload.local-cpu-vs-md5-receiver',
      name: `CPU per GiB of \`client.upload\` of ${what}, local-disk store (client and server), against the plain MD5 receiver and its client (bar: at most 1.3× of it)`,
      value: cpuOf(ours.checked),
      unit: 's CPU/GiB',
      better: 'lower',
      baseline: { name: baseline, value: cpuOf(receiver) },
      bars: [{ kind: 'ratio', atLeast: 0.77 }],
      detail: `medians of ${receiver.length} rounds (ours / receiver by round: ${byRound(ours.checked, cpu)}); ${unchecked} (${byRound(ours.unchecked, cpu)})`,
    },
  ];
}

/** fs copies, the plain MD5 receiver and client.upload to the local store, alternating, one server each for all rounds. */
async function measureLocalAgainstFs(
  context: SuiteContext,
  data: string,
): Promise<{ fs: Transfer[]; local: Transfer[]; unchecked: Transfer[]; receiver: Transfer[] }> {
  const dir = await mkdtemp(join(context.scratch, 'upload-local-'));
  const server = await startChildServer('api-server', {
    env: { BENCH_SERVER_CONFIG: JSON.stringify({ store: { kind: 'local', dir } }) },
  });
  const receiverServer = await startChildServer('md5-receiver', { env: { BENCH_RECEIVER_DIR: join(dir, 'md5-receiver') } });
  const fs: Transfer[] = [];
  const local: Transfer[] = [];
  const unchecked: Transfer[] = [];
  const receiver: Transfer[] = [];
  try {
    for (let round = 0; round < LOCAL_ROUNDS; round++) {
      fs.push(await measureFsWrite(context, data));
      // One profile is enough to see where the time goes; it would slow the rounds it covers.
      local.push(
        await withServerCpu(server, () => uploadThroughService(server.url, data, context.settings), round === 0 ? context : undefined),
      );
      // The receiver just before the same work through the service, so drift between them stays small.
      receiver.push(await withServerCpu(receiverServer, () => uploadToReceiver(receiverServer.url, data, context.settings)));
      unchecked.push(await withServerCpu(server, () => uploadThroughService(server.url, data, context.settings, { checksum: false })));
      const mib = (run: Transfer) => mibPerSecond(context.settings.transferBytes, run.ms).toFixed(0);
      console.log(
        `  round ${round + 1}: fs write ${mib(fs.at(-1)!)} MiB/s; MD5 receiver ${mib(receiver.at(-1)!)} MiB/s; ` +
          `client.upload (local) ${mib(local.at(-1)!)} MiB/s, without checksums ${mib(unchecked.at(-1)!)} MiB/s`,
      );
    }
    return { fs, local, unchecked, receiver };
  } finally {
    await receiverServer.stop();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureFsWrite(context: SuiteContext, data: string): Promise<Transfer> {
  const target = join(context.scratch, 'fs-copy.bin');
  try {
    const { ms, cpuMs } = await timed(() => pipeline(createReadStream(data), createWriteStream(target)));
    return { ms, cpuMs };
  } finally {
    await rm(target, { force: true });
  }
}

/** A transfer's CPU counted in the client and in the server; with `profile`, the run is profiled. */
async function withServerCpu(
  server: Awaited<ReturnType<typeof startChildServer>>,
  run: () => Promise<Transfer>,
  profile?: SuiteContext,
): Promise<Transfer> {
  const serverCpuBefore = await server.cpuMicros();
  const upload = profile ? await profile.profiled('upload', 'client-upload-local', server, run) : await run();
  const serverCpuMs = ((await server.cpuMicros()) - serverCpuBefore) / 1000;
  return { ms: upload.ms, cpuMs: upload.cpuMs + serverCpuMs };
}

async function measureClientUploadS3(
  context: SuiteContext,
  emulator: S3Emulator,
  data: string,
): Promise<{ checked: Transfer[]; unchecked: Transfer[] }> {
  const server = await startChildServer('api-server', {
    env: { BENCH_SERVER_CONFIG: JSON.stringify({ store: { kind: 's3', ...s3Options(emulator) } }) },
  });
  const checked: Transfer[] = [];
  const unchecked: Transfer[] = [];
  try {
    for (let round = 0; round < S3_ROUNDS; round++) {
      checked.push(await withServerCpu(server, () => uploadThroughService(server.url, data, context.settings)));
      unchecked.push(await withServerCpu(server, () => uploadThroughService(server.url, data, context.settings, { checksum: false })));
    }
    return { checked, unchecked };
  } finally {
    await server.stop();
  }
}

/** Times `client.upload` of the data file through the service (checksummed parts unless told), then removes the object again. */
async function uploadThroughService(
  url: string,
  data: string,
  settings: SuiteContext['settings'],
  options: { checksum?: boolean } = {},
): Promise<Transfer> {
  const client = createS3ServiceClient({ url });
  const { result, ms, cpuMs } = await timed(() =>
    client.upload(data, {
      workspaceId: WORKSPACE,
      concurrency: CONCURRENCY,
      partSize: settings.partSize,
      fileType: 'application/octet-stream',
      ...options,
    }),
  );
  if (result.size !== settings.transferBytes) throw new Error(`client.upload stored ${result.size} bytes, not ${settings.transferBytes}`);
  await client.delete({ workspaceId: WORKSPACE, key: result.key });
  return { ms, cpuMs };
}

/**
 * The baseline's client: each part read whole with a positioned read (as the SDK reads a file)
 * and PUT by fetch, `CONCURRENCY` at a time; then the receiver's parts are removed.
 */
async function uploadToReceiver(url: string, data: string, settings: SuiteContext['settings']): Promise<Transfer> {
  const { partSize, transferBytes: size } = settings;
  const parts = Math.ceil(size / partSize);
  const file = await open(data, 'r');
  try {
    let next = 0;
    const send = async () => {
      while (next < parts) {
        const index = next++;
        const length = Math.min(partSize, size - index * partSize);
        const body = Buffer.allocUnsafe(length);
        const { bytesRead } = await file.read(body, 0, length, index * partSize);
        if (bytesRead !== length) throw new Error(`read ${bytesRead} bytes of part ${index + 1}, not ${length}`);
        const response = await fetch(`${url}/parts/${index + 1}`, { method: 'PUT', body });
        await response.arrayBuffer();
        if (!response.ok || !response.headers.get('etag')) throw new Error(`the MD5 receiver answered ${response.status}`);
      }
    };
    const { ms, cpuMs } = await timed(() => Promise.all(Array.from({ length: CONCURRENCY }, send)));
    return { ms, cpuMs };
  } finally {
    await file.close();
    await fetch(`${url}/parts`, { method: 'DELETE' });
  }
}

async function measureLibStorage(emulator: S3Emulator, data: string, partSize: number): Promise<number> {
  const client = new S3Client({
    ...s3Options(emulator),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const key = `${WORKSPACE}/digital_assets/lib-storage-baseline`;
  try {
    const upload = new Upload({
      client,
      params: { Bucket: emulator.bucket, Key: key, Body: createReadStream(data), ContentType: 'application/octet-stream' },
      queueSize: CONCURRENCY,
      partSize,
    });
    const { ms } = await timed(() => upload.done());
    await client.send(new DeleteObjectCommand({ Bucket: emulator.bucket, Key: key }));
    return ms;
  } finally {
    client.destroy();
  }
}

export function s3Options(emulator: S3Emulator) {
  return {
    bucket: emulator.bucket,
    region: emulator.region,
    endpoint: emulator.endpoint,
    forcePathStyle: emulator.forcePathStyle,
    credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
  };
}

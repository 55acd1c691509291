import { createS3ServiceClient } from '@s3-service/client';
import { type Figure, formatNumber } from '../report/figures.js';
import type { BenchSettings } from '../settings.js';
import { type ChildServer, untilQuiet } from '../support/child-server.js';
import type { CompanionUpload } from '../support/companion.js';
import { alternatingRounds, describeSpread, type Spread, spreadOf } from '../support/rounds.js';
import { signAsTheSdkDoes } from '../support/sdk-windows.js';
import { collectGarbage, timed } from '../support/timing.js';
import type { PeerServers, UploadRef } from './peer-targets.js';

/**
 * Companion's batch takes its part numbers in the query string. 10,000 of them are about 49 KB,
 * over Node's own 16 KiB header limit (Companion answers 431) and the 8 KiB request line common
 * proxies allow (nginx's default buffers), so the list goes in requests whose target stays under
 * this, one after the other. Uppy's client itself no longer calls the batch route
 * (@uppy/aws-s3 6.3.1, CompanionS3.js: one `GET /s3/multipart/:uploadId/:partNumber` per part).
 */
const MAX_REQUEST_TARGET = 8000;

/** Unmeasured passes of each way before the rounds: on a smoke run, ours took four to settle. */
const WARM_PASSES = 3;

export const BATCH_WAYS = ['one-call', 'sdk-windows', 'companion'] as const;
export type BatchWay = (typeof BATCH_WAYS)[number];

export const BATCH_LABELS: Record<BatchWay, string> = {
  'one-call': 'ours, one upload.signParts call',
  'sdk-windows': "ours, the SDK's windows",
  companion: "Companion's batch",
};

/** One way of getting every URL of an upload, at one part count, over the rounds. */
export interface BatchResult {
  way: BatchWay;
  parts: number;
  /** Wall time until the last URL was in hand, parsed. */
  ms: Spread;
  /** Server CPU per URL. */
  cpuMicrosPerUrl: Spread;
  /** HTTP requests a round made. */
  requests: number;
  /** The unmeasured first pass of the same size, which pays for compiling its path. */
  firstPassMs: number;
}

interface Signed {
  urls: number;
  requests: number;
}

/**
 * For each part count: every URL of one upload from our S3 server in one `upload.signParts`
 * call, through the SDK's windows, and from Companion's batch route, in alternating rounds.
 * The time runs until the client holds every URL, parsed; server CPU is the process's over it.
 */
export async function measureBatches(servers: PeerServers, settings: BenchSettings): Promise<BatchResult[]> {
  const client = createS3ServiceClient({ url: servers.s3.url });
  const ways: Record<BatchWay, { server: ChildServer; sign(parts: number): Promise<Signed> }> = {
    'one-call': { server: servers.s3, sign: (parts) => signInOneCall(servers.s3.url, servers.s3Upload, parts) },
    'sdk-windows': {
      server: servers.s3,
      sign: async (parts) => {
        let requests = 0;
        const urls = await signAsTheSdkDoes((partNumbers, signal) => {
          requests++;
          return client.trpc.upload.signParts.mutate({ ...servers.s3Upload, partNumbers }, { signal });
        }, parts);
        return { urls, requests };
      },
    },
    companion: {
      server: servers.companion,
      sign: (parts) => signInCompanionBatches(servers.companion.url, servers.companionUpload, parts),
    },
  };
  const allServers = [servers.s3, servers.companion];
  const results: BatchResult[] = [];
  for (const parts of settings.peerSignParts) {
    // Unmeasured passes each, of the same size: the first ones pay for compiling their path (V8
    // optimises a function only after it ran hot a few times) and for the heap growing to it,
    // which a running service and a page past its first upload have paid.
    const firstPassMs = new Map<BatchWay, number>();
    for (let pass = 0; pass < WARM_PASSES; pass++) {
      for (const way of BATCH_WAYS) {
        const { ms } = await timed(() => ways[way].sign(parts));
        if (pass === 0) firstPassMs.set(way, ms);
      }
    }
    const rounds = await alternatingRounds(
      settings.peerRounds,
      BATCH_WAYS.map((way) => [way, () => measureOne(ways[way].server, () => ways[way].sign(parts), parts, allServers)] as const),
    );
    for (const way of BATCH_WAYS) {
      const runs = rounds.get(way)!;
      results.push({
        way,
        parts,
        ms: spreadOf(runs.map((run) => run.ms)),
        cpuMicrosPerUrl: spreadOf(runs.map((run) => run.cpuMicros / parts)),
        requests: runs[0]!.requests,
        firstPassMs: firstPassMs.get(way)!,
      });
      console.log(`  ${BATCH_LABELS[way]}, ${parts} URLs: ${describeSpread(spreadOf(runs.map((run) => run.ms)), 'ms')}`);
    }
  }
  return results;
}

/** Starts from a quiet machine: this process's garbage collected, and every server past its last burst. */
async function measureOne(server: ChildServer, sign: () => Promise<Signed>, parts: number, allServers: ChildServer[]) {
  collectGarbage();
  await untilQuiet(allServers);
  const cpuBefore = await server.cpuMicros();
  const { result, ms } = await timed(sign);
  const cpuMicros = (await server.cpuMicros()) - cpuBefore;
  if (result.urls !== parts) throw new Error(`signed ${result.urls} URLs of ${parts}`);
  return { ms, cpuMicros, requests: result.requests };
}

function numbersUpTo(parts: number): number[] {
  return Array.from({ length: parts }, (_, index) => index + 1);
}

async function signInOneCall(baseUrl: string, ref: UploadRef, parts: number): Promise<Signed> {
  const answer = await fetch(`${baseUrl}/trpc/upload.signParts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ json: { ...ref, partNumbers: numbersUpTo(parts) } }),
  });
  if (!answer.ok) throw new Error(`upload.signParts answered ${answer.status}: ${(await answer.text()).slice(0, 300)}`);
  const body = (await answer.json()) as { result: { data: { json: { parts: unknown[] } } } };
  return { urls: body.result.data.json.parts.length, requests: 1 };
}

async function signInCompanionBatches(baseUrl: string, upload: CompanionUpload, parts: number): Promise<Signed> {
  const path = `/s3/multipart/${encodeURIComponent(upload.uploadId)}/batch?key=${encodeURIComponent(upload.key)}&partNumbers=`;
  let urls = 0;
  let requests = 0;
  for (const chunk of chunksWithin(numbersUpTo(parts), MAX_REQUEST_TARGET - path.length)) {
    const answer = await fetch(`${baseUrl}${path}${chunk.join(',')}`);
    if (!answer.ok) throw new Error(`Companion's batch answered ${answer.status}: ${(await answer.text()).slice(0, 300)}`);
    const body = (await answer.json()) as { presignedUrls: Record<string, string> };
    urls += Object.keys(body.presignedUrls).length;
    requests++;
  }
  return { urls, requests };
}

/** Consecutive runs of `numbers` whose comma-separated text fits in `budget` characters. */
function chunksWithin(numbers: number[], budget: number): number[][] {
  const chunks: number[][] = [];
  let chunk: number[] = [];
  let length = 0;
  for (const number of numbers) {
    const text = String(number);
    if (chunk.length > 0 && length + 1 + text.length > budget) {
      chunks.push(chunk);
      chunk = [];
      length = 0;
    }
    length += (chunk.length > 0 ? 1 : 0) + text.length;
    chunk.push(number);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** The SDK's 10,000-part bar of issue 20: its signing takes at most this long in all. */
const SDK_SIGNING_MS = 150;

export function batchFigures(results: BatchResult[], settings: BenchSettings): Figure[] {
  const figures: Figure[] = [];
  for (const parts of settings.peerSignParts) {
    const at = (way: BatchWay) => results.find((result) => result.way === way && result.parts === parts)!;
    const companion = at('companion');
    const count = parts.toLocaleString('en-US');
    const baseline = {
      name: `${BATCH_LABELS.companion} (${companion.requests} requests of ≤ ${MAX_REQUEST_TARGET} characters), median`,
      value: companion.ms.median,
    };
    const rounds = (result: BatchResult) =>
      `medians of ${settings.peerRounds} alternating rounds; ours ${describeSpread(result.ms, 'ms')}, Companion ${describeSpread(companion.ms, 'ms')}; ` +
      `server CPU ${formatNumber(result.cpuMicrosPerUrl.median)} µs/URL against ${formatNumber(companion.cpuMicrosPerUrl.median)}; ` +
      `after ${WARM_PASSES} unmeasured passes of the same size (the first: ours ${formatNumber(result.firstPassMs)} ms, Companion ${formatNumber(companion.firstPassMs)} ms)`;
    const oneCall = at('one-call');
    const windows = at('sdk-windows');
    figures.push(
      {
        id: `peer.batch.one-call.${parts}`,
        suite: 'peer',
        name: `${count} part URLs for one upload: one \`upload.signParts\` call, S3 driver on versitygw, against Companion's batch`,
        value: oneCall.ms.median,
        unit: 'ms',
        better: 'lower',
        baseline,
        bars: [],
        detail: `until the client holds every URL, parsed; ${rounds(oneCall)}`,
      },
      {
        id: `peer.batch.one-call-cpu.${parts}`,
        suite: 'peer',
        name: `${count} part URLs for one upload, server CPU per URL: one \`upload.signParts\` call against Companion's batch`,
        value: oneCall.cpuMicrosPerUrl.median,
        unit: 'µs CPU/URL',
        better: 'lower',
        baseline: { name: `${BATCH_LABELS.companion}, median`, value: companion.cpuMicrosPerUrl.median },
        bars: [],
        detail: `ours ${describeSpread(oneCall.cpuMicrosPerUrl, 'µs')}, Companion ${describeSpread(companion.cpuMicrosPerUrl, 'µs')}`,
      },
      {
        id: `peer.batch.sdk-windows.${parts}`,
        suite: 'peer',
        name: `${count} part URLs for one upload through the SDK's windows (\`PartUrlSource\` as \`sendParts\` sets it up, ${windows.requests} calls), against Companion's batch`,
        value: windows.ms.median,
        unit: 'ms',
        better: 'lower',
        baseline,
        bars: parts === 10_000 ? [{ kind: 'value', atMost: SDK_SIGNING_MS }] : [],
        detail: `the SDK's own tRPC client and signer, its default concurrency asking for URLs, no PUTs; one call takes ${formatNumber(oneCall.ms.median)} ms; ${rounds(windows)}`,
      },
    );
  }
  return figures;
}

import type { S3StoreOptions } from '@s3-service/server';
import { type ChildServer, startChildServer } from '../support/child-server.js';
import { type CompanionUpload, companionPartUrl, createCompanionUpload, startCompanion } from '../support/companion.js';
import type { S3Emulator } from '../support/emulator.js';
import { trpcMutation } from '../support/http.js';
import type { LoadTarget } from '../support/load.js';

/** Ours and the peer's per-part signing routes, in the order a round runs them (Companion between our two S3 rows). */
export const PER_PART_TARGETS = ['rest-s3', 'companion', 'trpc-s3', 'rest-local', 'trpc-local'] as const;
export type PerPartTargetName = (typeof PER_PART_TARGETS)[number];

export const TARGET_LABELS: Record<PerPartTargetName, string> = {
  'rest-s3': 'ours REST, S3 driver',
  'trpc-s3': 'ours tRPC, S3 driver',
  companion: 'Companion 6.2.2, S3',
  'rest-local': 'ours REST, local disk',
  'trpc-local': 'ours tRPC, local disk',
};

/** One upload of ours, as a sign call names it. */
export interface UploadRef {
  workspaceId: string;
  assetId: string;
  uploadId: string;
}

/** The three servers of the suite, each in its own process, and one open upload on each. */
export interface PeerServers {
  /** The service on the S3 driver, on the same versitygw as Companion, with its (PGlite) catalogue. */
  s3: ChildServer;
  s3Upload: UploadRef;
  /** The service on the local-disk store: what the same routes do without S3 behind them. */
  local: ChildServer;
  localUpload: UploadRef;
  companion: ChildServer;
  companionUpload: CompanionUpload;
  stop(): Promise<void>;
}

export async function startPeerServers(emulator: S3Emulator, scratch: string, localDir: string): Promise<PeerServers> {
  const s3Options: S3StoreOptions = {
    bucket: emulator.bucket,
    region: emulator.region,
    endpoint: emulator.endpoint,
    forcePathStyle: emulator.forcePathStyle,
    credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
  };
  const started: ChildServer[] = [];
  const stop = async () => {
    await Promise.all(started.map((server) => server.stop()));
  };
  try {
    const start = async (run: () => Promise<ChildServer>) => {
      const server = await run();
      started.push(server);
      return server;
    };
    const s3 = await start(() =>
      startChildServer('api-server', { env: { BENCH_SERVER_CONFIG: JSON.stringify({ store: { kind: 's3', ...s3Options } }) } }),
    );
    const local = await start(() =>
      startChildServer('api-server', { env: { BENCH_SERVER_CONFIG: JSON.stringify({ store: { kind: 'local', dir: localDir } }) } }),
    );
    const companion = await start(() => startCompanion(emulator, scratch));
    return {
      s3,
      s3Upload: await startUpload(s3),
      local,
      localUpload: await startUpload(local),
      companion,
      companionUpload: await createCompanionUpload(companion),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startUpload(server: ChildServer): Promise<UploadRef> {
  const workspaceId = 'bench';
  const started = await trpcMutation<{ uploadId: string; assetId: string }>(server.url, 'upload.start', {
    workspaceId,
    fileType: 'application/octet-stream',
  });
  return { workspaceId, assetId: started.assetId, uploadId: started.uploadId };
}

/** Part 1's URL by each route: a GET, as a client of that route signs one part. */
export function perPartTargets(servers: PeerServers): Record<PerPartTargetName, LoadTarget> {
  const rest = (server: ChildServer, ref: UploadRef, name: string): LoadTarget => ({
    name,
    server,
    url: `${server.url}/s3/get-upload-url?${new URLSearchParams({ workspaceId: ref.workspaceId, assetId: ref.assetId, UploadId: ref.uploadId, PartNumber: '1' })}`,
  });
  // A query: tRPC takes its input from the URL, in superjson's envelope.
  const trpc = (server: ChildServer, ref: UploadRef, name: string): LoadTarget => ({
    name,
    server,
    url: `${server.url}/trpc/upload.signPart?input=${encodeURIComponent(JSON.stringify({ json: { ...ref, partNumber: 1 } }))}`,
  });
  return {
    'rest-s3': rest(servers.s3, servers.s3Upload, 'GET /s3/get-upload-url (S3)'),
    'trpc-s3': trpc(servers.s3, servers.s3Upload, 'tRPC upload.signPart (S3)'),
    companion: {
      name: 'Companion GET /s3/multipart/:uploadId/:partNumber',
      server: servers.companion,
      url: companionPartUrl(servers.companion, servers.companionUpload, 1),
    },
    'rest-local': rest(servers.local, servers.localUpload, 'GET /s3/get-upload-url (local)'),
    'trpc-local': trpc(servers.local, servers.localUpload, 'tRPC upload.signPart (local)'),
  };
}

/**
 * Before any load: every route answers a URL that its store takes a part's bytes at (200 to the
 * PUT), so each figure counts requests that sign something usable, not errors answered fast.
 */
export async function checkPerPartTargets(targets: Record<PerPartTargetName, LoadTarget>): Promise<void> {
  for (const [name, target] of Object.entries(targets)) {
    const answer = await fetch(target.url);
    const text = await answer.text();
    if (!answer.ok) throw new Error(`${name}: ${target.url} answered ${answer.status}: ${text.slice(0, 300)}`);
    const body = JSON.parse(text) as { url?: string; result?: { data?: { json?: { url?: string } } } };
    const url = body.url ?? body.result?.data?.json?.url;
    if (!url) throw new Error(`${name}: no URL in ${text.slice(0, 300)}`);
    const put = await fetch(url, { method: 'PUT', body: Buffer.alloc(1024, 1) });
    if (!put.ok) throw new Error(`${name}: the signed URL refused a part (${put.status}): ${(await put.text()).slice(0, 300)}`);
    await put.arrayBuffer().catch(() => undefined);
  }
}

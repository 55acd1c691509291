// An app outside the monorepo, as its developer writes it against the installed package. The
// packed-package test type-checks this file; each `@ts-expect-error` must be needed, so a client
// whose types fell back to `any` fails the check.
import {
  type AppRouter,
  type AssetEvent,
  createS3ServiceClient,
  type ErrorCode,
  type PartRetry,
  type RouterInputs,
  type RouterOutputs,
  S3ServiceError,
  type S3ServiceErrorCode,
  UploadError,
  type UploadHandle,
} from '@s3-service/client';

const client = createS3ServiceClient({
  url: 'https://files.example.com',
  headers: async () => ({ authorization: 'Bearer token' }),
});

export async function correctCalls(file: Blob): Promise<string> {
  const { key, size, etag } = await client.upload(file, {
    workspaceId: 'ws-1',
    concurrency: 2,
    onProgress: ({ loaded, total }) => console.log(loaded, total ?? size),
  });
  const started: RouterOutputs['upload']['start'] = await client.trpc.upload.start.mutate({ workspaceId: 'ws-1', fileType: 'image/png' });
  const signInput: RouterInputs['upload']['signParts'] = {
    workspaceId: 'ws-1',
    assetId: started.assetId,
    uploadId: started.uploadId,
    partNumbers: [1, 2],
  };
  const signed = await client.trpc.upload.signParts.mutate(signInput);
  const firstUrl: string | undefined = signed.parts[0]?.url;
  const head = await client.trpc.object.head.query({ workspaceId: 'ws-1', key });
  const modified: Date = head.lastModified;
  const page = await client.trpc.object.list.query({ workspaceId: 'ws-1', limit: 10 });
  const sizes: number[] = page.objects.map((object) => object.size);
  const { url } = await client.downloadUrl({ key, workspaceId: 'ws-1' });
  await client.delete({ key, workspaceId: 'ws-1' });
  const router: AppRouter | undefined = undefined;
  return [etag, firstUrl, modified.toISOString(), sizes.join(), url, String(router)].join(' ');
}

export async function pausedUploadAndHelpers(file: Blob): Promise<string> {
  const retried: PartRetry[] = [];
  const upload: UploadHandle = client.upload(file, { workspaceId: 'ws-1', onRetry: (retry) => void retried.push(retry) });
  upload.pause();
  const paused: boolean = upload.paused;
  upload.resume();
  const { key } = await upload;
  const listed = await client.list({ workspaceId: 'ws-1', limit: 20 });
  const next: string | null = listed.nextCursor;
  const head = await client.head({ workspaceId: 'ws-1', key });
  const name: string | null = head.fileName;
  const open = await client.listOpen({ workspaceId: 'ws-1' });
  const usage = await client.usage({ workspaceId: 'ws-1' });
  return [paused, next, name, open.uploads.length, usage.storedBytes, retried[0]?.reason].join(' ');
}

export async function mistakes(): Promise<void> {
  // @ts-expect-error there is no procedure upload.strat
  await client.trpc.upload.strat.mutate({ workspaceId: 'ws-1', fileType: 'image/png' });
  // @ts-expect-error the input is workspaceId, not workspaceID
  await client.trpc.upload.start.mutate({ workspaceID: 'ws-1', fileType: 'image/png' });
  // @ts-expect-error partNumber is a number
  await client.trpc.upload.signPart.query({ workspaceId: 'ws-1', assetId: 'a', uploadId: 'u', partNumber: '1' });
  // @ts-expect-error a query is not a mutation
  await client.trpc.object.head.mutate({ workspaceId: 'ws-1', key: 'k' });

  const started = await client.trpc.upload.start.mutate({ workspaceId: 'ws-1', fileType: 'image/png' });
  // @ts-expect-error uploadId is a string
  const uploadId: number = started.uploadId;
  // @ts-expect-error upload.start answers no url
  const url: string = started.url;
  const head = await client.trpc.object.head.query({ workspaceId: 'ws-1', key: started.key });
  // @ts-expect-error lastModified is a Date (superjson keeps it one), not a string
  head.lastModified.startsWith('2026');
  // @ts-expect-error object.list takes a limit of numbers
  await client.list({ workspaceId: 'ws-1', limit: '20' });
  // @ts-expect-error usage answers no objects
  (await client.usage({ workspaceId: 'ws-1' })).objects;
  // @ts-expect-error a retry's reason is failed, expired or paused
  client.upload(new Blob([]), { workspaceId: 'ws-1', onRetry: (retry) => retry.reason === 'timeout' });
  console.log(uploadId, url);
}

export function errorHandling(error: unknown): string {
  if (error instanceof UploadError && error.code === 'NETWORK_ERROR') return `resume ${error.uploadId ?? ''}`;
  if (error instanceof S3ServiceError) {
    const code: S3ServiceErrorCode = error.code;
    const serverCode: ErrorCode = 'INVALID_UPLOAD_ID';
    // @ts-expect-error not a code the service or the client can raise
    if (error.code === 'NO_SUCH_CODE') return 'never';
    // @ts-expect-error MISSING_ETAG is the client's own code, not the server's
    const wrong: ErrorCode = 'MISSING_ETAG';
    return `${code} ${serverCode} ${wrong} ${error.status ?? ''}`;
  }
  return 'unknown';
}

export function liveEvents(signal: AbortSignal): () => void {
  return client.events({
    workspaceId: 'ws-1',
    signal,
    onEvent: (event: AssetEvent) => {
      if (event.type === 'asset.created') console.log(event.data.key, event.data.size.toFixed(0), event.data.etag);
      // @ts-expect-error an asset.deleted event has no etag
      if (event.type === 'asset.deleted') console.log(event.data.etag);
    },
    onError: (error) => console.error(error.message),
  });
}

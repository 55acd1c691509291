import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCClient } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from './contract.js';
import { type DownloadInput, downloadObject } from './download.js';
import { type EventsOptions, eventSourceWithHeaders, subscribeToEvents, type Unsubscribe } from './events.js';
import { createHttpContext, type HeadersOption } from './http.js';
import { callService } from './service-call.js';
import type { UploadData } from './upload/open-source.js';
import { canPutWithXhr } from './upload/xhr-put.js';
import { type UploadHandle, type UploadOptions, uploadData } from './upload.js';
import { wireTransformer } from './wire-transformer.js';

export interface S3ServiceClientOptions {
  /** The service's base URL, e.g. `http://127.0.0.1:3000`; tRPC is at `${url}/trpc`. */
  url: string;
  /** Headers for every request to the service (e.g. Authorization); called per request. */
  headers?: HeadersOption;
  /**
   * The fetch to use; default the platform's. Also used for the part PUTs to signed URLs, which in
   * browsers otherwise go with XMLHttpRequest for their upload progress: with a fetch of your own,
   * browser progress moves per finished part.
   */
  fetch?: typeof globalThis.fetch;
}

export interface ObjectRef {
  key: string;
  workspaceId: string;
}

/** What each procedure takes, straight from the router's types: `RouterInputs['upload']['start']`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** What each procedure answers, straight from the router's types: `RouterOutputs['object']['head']`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** A procedure's input, with the signal that cancels the call. */
type WithSignal<Input> = Input & { signal?: AbortSignal };

export interface S3ServiceClient {
  /** The full typed tRPC client, for everything the helpers below do not cover. */
  readonly trpc: TRPCClient<AppRouter>;
  /**
   * Uploads `data` as one object with the resumable, parallel multipart flow. Await the handle
   * for the result; `pause()` / `resume()` hold the upload and continue it.
   */
  upload(data: UploadData, options: UploadOptions): UploadHandle;
  /** The object's bytes as a streaming Response (GET /s3/download). */
  download(input: DownloadInput): Promise<Response>;
  /** A signed GET URL, for `<a href>` or `<img src>`; NOT_FOUND when there is no object. */
  downloadUrl(input: ObjectRef & { expiresIn?: number; signal?: AbortSignal }): Promise<RouterOutputs['object']['downloadUrl']>;
  delete(input: ObjectRef & { signal?: AbortSignal }): Promise<RouterOutputs['object']['delete']>;
  /** A page of the workspace's assets (`object.list`): `{ objects, nextCursor }`; pass `nextCursor` back as `cursor` for the next. */
  list(input: WithSignal<RouterInputs['object']['list']>): Promise<RouterOutputs['object']['list']>;
  /** One asset's size, type, name and dates (`object.head`); NOT_FOUND when there is none. */
  head(input: WithSignal<RouterInputs['object']['head']>): Promise<RouterOutputs['object']['head']>;
  /** A page of the workspace's unfinished uploads with what the store holds of each (`upload.listOpen`), to resume from anywhere. */
  listOpen(input: WithSignal<RouterInputs['upload']['listOpen']>): Promise<RouterOutputs['upload']['listOpen']>;
  /** What the workspace holds and may still hold (`workspace.usage`): bytes, assets, open uploads, the quota. */
  usage(input: WithSignal<RouterInputs['workspace']['usage']>): Promise<RouterOutputs['workspace']['usage']>;
  /** Gives up an upload that failed and will not be resumed, freeing its stored parts. */
  abortUpload(input: { workspaceId: string; uploadId: string; assetId: string; signal?: AbortSignal }): Promise<void>;
  /**
   * The workspace's events as they happen (asset.created, asset.deleted, upload.aborted,
   * upload.expired), over one SSE stream that reconnects and resumes by itself; returns the
   * unsubscribe.
   */
  events(options: EventsOptions): Unsubscribe;
}

/**
 * Calls per batched request. The server refuses a larger batch (MAX_CALLS_PER_BATCH, 50 unless
 * set, never below 20), and a page that starts a few hundred uploads at once issues that many
 * calls in one tick: the link splits them into requests of at most this many.
 */
export const MAX_BATCH_CALLS = 20;

export function createS3ServiceClient(options: S3ServiceClientOptions): S3ServiceClient {
  const http = createHttpContext(options);
  // A fetch the caller gave carries every request, part PUTs too; the platform's is swapped for
  // XMLHttpRequest on part PUTs in browsers, whose fetch cannot tell a body's progress.
  const partsWithXhr = options.fetch === undefined && canPutWithXhr();
  const trpc = createTRPCClient<AppRouter>({
    links: [
      // Subscriptions are streams of their own (SSE), every other call is batched.
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: `${http.baseUrl}/trpc`, transformer: wireTransformer, ...eventSourceWithHeaders(http) }),
        false: httpBatchLink({
          url: `${http.baseUrl}/trpc`,
          transformer: wireTransformer,
          fetch: http.fetch,
          headers: http.headers,
          maxItems: MAX_BATCH_CALLS,
        }),
      }),
    ],
  });

  return {
    trpc,
    upload: (data, uploadOptions) => uploadData({ trpc, fetch: http.fetch, partsWithXhr }, data, uploadOptions),
    download: (input) => downloadObject(http, input),
    downloadUrl: ({ signal, ...input }) => callService(() => trpc.object.downloadUrl.query(input, { signal }), signal),
    delete: ({ signal, ...input }) => callService(() => trpc.object.delete.mutate(input, { signal }), signal),
    list: ({ signal, ...input }) => callService(() => trpc.object.list.query(input, { signal }), signal),
    head: ({ signal, ...input }) => callService(() => trpc.object.head.query(input, { signal }), signal),
    listOpen: ({ signal, ...input }) => callService(() => trpc.upload.listOpen.query(input, { signal }), signal),
    usage: ({ signal, ...input }) => callService(() => trpc.workspace.usage.query(input, { signal }), signal),
    abortUpload: async ({ signal, ...input }) => {
      await callService(() => trpc.upload.abort.mutate(input, { signal }), signal);
    },
    events: (eventsOptions) => subscribeToEvents(trpc, eventsOptions),
  };
}

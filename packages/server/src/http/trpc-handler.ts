import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type AnyTRPCRouter, type inferRouterContext, TRPCError } from '@trpc/server';
import { type HTTPErrorHandler, resolveResponse, type TRPCRequestInfo } from '@trpc/server/http';
import type { Request as ExpressRequest, Response as ExpressResponse, NextFunction, RequestHandler } from 'express';

export interface TrpcHandlerOptions<TRouter extends AnyTRPCRouter> {
  router: TRouter;
  /** `info` lists the request's calls (paths, inputs parsed on demand) before any of them runs. */
  createContext(
    req: ExpressRequest,
    res: ExpressResponse,
    info: TRPCRequestInfo,
  ): inferRouterContext<TRouter> | Promise<inferRouterContext<TRouter>>;
  /** Called for every failed call, with the Node request (like the Express adapter's `onError`). */
  onError?(opts: Parameters<HTTPErrorHandler<TRouter, ExpressRequest>>[0]): void;
  /** Larger bodies fail with tRPC's PAYLOAD_TOO_LARGE, as with the Express adapter's `maxBodySize`. */
  maxBodySize: number;
}

/**
 * tRPC over Express, built on `resolveResponse` (tRPC's own protocol handler, which every adapter
 * calls) with a lighter bridge between Node and Fetch than `createExpressMiddleware`'s. The
 * adapter streams the request body into a web stream and pipes every answer back through a
 * WritableStream in separate writes; on Node 20 that costs about 15% of a small call's CPU.
 * Here the body (at most a few MiB, already bounded) is read into one string, and an answer that
 * is not a stream is written with its headers in one `end`. Streamed answers (jsonl batches)
 * still stream, with backpressure.
 */
export function trpcHandler<TRouter extends AnyTRPCRouter>(options: TrpcHandlerOptions<TRouter>): RequestHandler {
  return (req, res, next) => {
    serve(options, req, res).catch((error: unknown) => failAfterStart(res, next, error));
  };
}

async function serve<TRouter extends AnyTRPCRouter>(options: TrpcHandlerOptions<TRouter>, req: ExpressRequest, res: ExpressResponse) {
  const aborted = abortWhenClientLeaves(req, res);
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req, res, options.maxBodySize);
  const request = new Request(new URL(req.url, 'http://trpc.invalid'), {
    method: req.method,
    headers: fetchHeaders(req.headers),
    signal: aborted.signal,
    ...(body === undefined ? {} : { body, duplex: 'half' }),
  });
  const response = await resolveResponse({
    router: options.router,
    req: request,
    // The Express adapter's rule: the procedure path is the last segment under the mount point.
    path: req.path.slice(req.path.lastIndexOf('/') + 1),
    error: null,
    createContext: ({ info }) => Promise.resolve(options.createContext(req, res, info)),
    onError: (failure) => options.onError?.({ ...failure, req }),
  });
  await writeResponse(response, res, aborted.signal);
}

type Body = string | ReadableStream<Uint8Array>;

/** The whole body as text; past the limit, a body that fails as tRPC's own adapter fails it. */
async function readBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Body> {
  const tooLarge = () => {
    // The rest of the body is not read, so this connection cannot carry another request.
    res.setHeader('connection', 'close');
    return new ReadableStream<Uint8Array>({ start: (controller) => controller.error(new TRPCError({ code: 'PAYLOAD_TOO_LARGE' })) });
  };
  if (Number(req.headers['content-length']) > limit) return tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early must not destroy the request: the socket still carries the answer.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return tooLarge();
    chunks.push(chunk);
  }
  // A client that leaves mid-body ends the stream early; errorResponder knows this type (body-parser's).
  if (!req.complete) throw Object.assign(new Error('the client left before sending the whole body'), { type: 'request.aborted' });
  return chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString();
}

function fetchHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const name in incoming) {
    const value = incoming[name];
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.append(name, value);
  }
  return headers;
}

/** The request's signal: procedures and streamed answers stop when the client goes away. */
function abortWhenClientLeaves(req: IncomingMessage, res: ServerResponse): AbortController {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  req.once('aborted', () => controller.abort());
  return controller;
}

/** tRPC's own Vary (trpc-accept, accept) joins what the middlewares set (CORS's Origin), never replaces it. */
function appendVary(res: ServerResponse, value: string): void {
  const before = res.getHeader('vary');
  const names = [...(before === undefined ? [] : String(before).split(',')), ...value.split(',')]
    .map((name) => name.trim())
    .filter(Boolean);
  const unique = [...new Map(names.map((name) => [name.toLowerCase(), name])).values()];
  res.setHeader('vary', unique.join(', '));
}

async function writeResponse(response: globalThis.Response, res: ServerResponse, signal: AbortSignal): Promise<void> {
  if (res.statusCode === 200) res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name === 'vary') appendVary(res, value);
    else if (name !== 'set-cookie') res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (!response.body) {
    res.end();
  } else if (isStreamed(response)) {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), res, { signal }).catch(ignoreAbort);
  } else {
    await writeWholeBody(response.body, res);
  }
}

/**
 * A JSON answer is one chunk (tRPC hands fetch one string), sent with its headers and length in
 * one `end`; reading it through `arrayBuffer()` would copy it once more, 5 MB for 10,000 part URLs.
 */
async function writeWholeBody(body: ReadableStream<Uint8Array>, res: ServerResponse): Promise<void> {
  const reader = body.getReader();
  let pending = await reader.read();
  if (pending.done) return void res.end();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    if (!res.write(pending.value)) await drained(res);
    if (res.destroyed) return void reader.cancel();
    pending = next;
  }
  res.end(pending.value);
}

/** Resolves when the socket takes more, or when it is gone (a vanished client never drains). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** tRPC streams jsonl batches (chunked) and subscriptions (SSE); every other answer is one JSON text. */
function isStreamed(response: globalThis.Response): boolean {
  return (
    response.headers.get('transfer-encoding') === 'chunked' || (response.headers.get('content-type') ?? '').startsWith('text/event-stream')
  );
}

function ignoreAbort(error: unknown): void {
  if ((error as { name?: string }).name !== 'AbortError') throw error;
}

/** A failure of the bridge itself (never of a procedure: tRPC answers those). */
function failAfterStart(res: ServerResponse, next: NextFunction, error: unknown): void {
  if (res.headersSent) res.destroy(error instanceof Error ? error : undefined);
  else next(error);
}

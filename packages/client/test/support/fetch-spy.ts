/**
 * A `fetch` for the client under test that records what it sends and can break part PUTs on
 * purpose: the faults a real network and store produce, without waiting for them.
 */

export interface PartPut {
  partNumber: number;
  url: string;
  /** 0-based count over all PUTs this spy saw. */
  index: number;
}

/** What to do with a PUT instead of (or after) sending it. */
export type PutFault =
  | { kind: 'network' } // fetch rejects like a reset connection, nothing reaches the store
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> } // the store "answers" this
  | { kind: 'strip-etag' } // the PUT goes through, but the ETag header is hidden (missing CORS ExposeHeaders)
  | { kind: 'before'; run: () => void | Promise<void> } // a side effect, then the real PUT
  | { kind: 'cut'; after: number }; // the real PUT, its body broken off after this many bytes (a paused browser upload)

export interface FetchSpy {
  fetch: typeof globalThis.fetch;
  /** Every part PUT, in order, faulty ones included. */
  puts: PartPut[];
  /** PUTs that reached the store and were answered with 2xx. */
  storedPuts: PartPut[];
  /** tRPC procedure paths called, e.g. `upload.signParts`, one entry per procedure in a batch. */
  procedures: string[];
  /** Every upload the client started: ids from the `upload.start` answers. */
  started: Array<{ uploadId: string; assetId: string; key: string }>;
}

export function createFetchSpy(faultFor: (put: PartPut) => PutFault | undefined = () => undefined): FetchSpy {
  const spy: FetchSpy = { fetch: undefined as never, puts: [], storedPuts: [], procedures: [], started: [] };

  spy.fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = (init?.method ?? 'GET').toUpperCase();
    if (url.pathname.startsWith('/trpc/')) return tRPCCall(spy, url, input, init);
    if (method !== 'PUT') return fetch(input, init);

    const put: PartPut = { partNumber: Number(url.searchParams.get('partNumber')), url: url.href, index: spy.puts.length };
    spy.puts.push(put);
    const fault = faultFor(put);
    if (fault?.kind === 'network') {
      await cancelBody(init);
      throw new TypeError('fetch failed', { cause: new Error('ECONNRESET (injected)') });
    }
    if (fault?.kind === 'status') {
      await cancelBody(init);
      return new Response(fault.body ?? '', { status: fault.status, headers: fault.headers });
    }
    if (fault?.kind === 'before') await fault.run();
    const response = await fetch(input, fault?.kind === 'cut' ? { ...init, body: cutBody(init?.body, fault.after) } : init);
    if (response.ok) spy.storedPuts.push(put);
    if (fault?.kind !== 'strip-etag') return response;
    const headers = new Headers(response.headers);
    headers.delete('etag');
    return new Response(response.body, { status: response.status, headers });
  };
  return spy;
}

async function tRPCCall(spy: FetchSpy, url: URL, input: Parameters<typeof fetch>[0], init: RequestInit | undefined): Promise<Response> {
  const paths = decodeURIComponent(url.pathname.slice('/trpc/'.length)).split(',');
  spy.procedures.push(...paths);
  const response = await fetch(input, init);
  if (paths.includes('upload.start') && response.ok) {
    const results = (await response.clone().json()) as Array<{ result?: { data?: { json?: unknown } } }>;
    for (const [index, path] of paths.entries()) {
      if (path === 'upload.start') spy.started.push(results[index]?.result?.data?.json as FetchSpy['started'][number]);
    }
  }
  return response;
}

/** A faulty PUT never reads its body; the counting stream is cancelled as a real fetch would. */
async function cancelBody(init: RequestInit | undefined): Promise<void> {
  const body = init?.body;
  if (body instanceof ReadableStream) await body.cancel().catch(() => {});
}

/**
 * The body's first `after` bytes, then a failure: fetch breaks the connection off with the bytes
 * that left so far, as a browser does when an upload is paused or its tab closed mid-part.
 */
function cutBody(body: RequestInit['body'], after: number): ReadableStream<Uint8Array> {
  if (!(body instanceof ReadableStream)) throw new Error('a cut needs a streamed part body (streamParts: true)');
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= after) {
        await reader.cancel().catch(() => {});
        // A moment for the bytes to reach the store before the connection goes.
        await new Promise((resolve) => setTimeout(resolve, 50));
        controller.error(new Error('the upload was paused mid-part (injected)'));
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      const chunk = value.subarray(0, after - sent);
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
}

/** How many times each procedure was called. */
export function countProcedures(spy: FetchSpy, path: string): number {
  return spy.procedures.filter((called) => called === path).length;
}

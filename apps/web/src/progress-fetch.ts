/** Told about the request body of one PUT as the browser sends it. */
export interface UploadProgressListener {
  /** `sent` bytes of this attempt's body have gone out so far. */
  onSent(url: string, sent: number): void;
  /** The attempt is over (answered, failed or aborted); its bytes are no longer in flight. */
  onSettled(url: string): void;
}

/** Statuses whose Response may not carry a body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * A fetch for the client SDK that sends PUTs with XMLHttpRequest. Browser fetch has no upload
 * progress events (and cannot stream a body over HTTP/1.1), so with plain fetch the bar would
 * only move when a whole part (8 MiB or more) is stored. Everything else goes to the real fetch.
 */
export function createProgressFetch(listener: UploadProgressListener): typeof fetch {
  return (input, init) => {
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    // XHR cannot send a stream body; such a PUT (the SDK's `streamParts`) keeps plain fetch.
    if (method !== 'PUT' || input instanceof Request || init?.body instanceof ReadableStream) return fetch(input, init);
    return putWithProgress(input instanceof URL ? input.href : input, init ?? {}, listener);
  };
}

function putWithProgress(url: string, init: RequestInit, listener: UploadProgressListener): Promise<Response> {
  return new Promise((resolve, reject) => {
    const signal = init.signal;
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.responseType = 'arraybuffer';
    new Headers(init.headers).forEach((value, name) => {
      xhr.setRequestHeader(name, value);
    });

    const onAbort = () => xhr.abort();
    const settle = () => {
      signal?.removeEventListener('abort', onAbort);
      listener.onSettled(url);
    };
    xhr.upload.addEventListener('progress', (event) => listener.onSent(url, event.loaded));
    xhr.addEventListener('load', () => {
      settle();
      const body = NULL_BODY_STATUSES.has(xhr.status) ? null : (xhr.response as ArrayBuffer);
      resolve(new Response(body, { status: xhr.status, statusText: xhr.statusText, headers: parseHeaders(xhr.getAllResponseHeaders()) }));
    });
    // The same failure fetch reports, so the SDK tells a network error (and retries it) as usual.
    xhr.addEventListener('error', () => {
      settle();
      reject(new TypeError('Failed to fetch'));
    });
    xhr.addEventListener('abort', () => {
      settle();
      reject(abortError(signal));
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    xhr.send((init.body ?? null) as XMLHttpRequestBodyInit | null);
  });
}

/** `getAllResponseHeaders()` lists only what CORS lets the page read, one `name: value` a line. */
function parseHeaders(raw: string): Headers {
  const headers = new Headers();
  for (const line of raw.trim().split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return headers;
}

function abortError(signal: AbortSignal | null | undefined): unknown {
  const reason: unknown = signal?.reason;
  return reason instanceof DOMException && reason.name === 'AbortError'
    ? reason
    : new DOMException('The operation was aborted', 'AbortError');
}

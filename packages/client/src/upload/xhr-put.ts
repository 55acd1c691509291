import { abortError } from '../abort.js';

/** True where XMLHttpRequest exists: browser pages and dedicated workers; not Node, not service workers. */
export function canPutWithXhr(): boolean {
  return typeof XMLHttpRequest === 'function';
}

export interface XhrPutInit {
  body: Blob | Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
  signal: AbortSignal;
}

/** Statuses whose Response may not carry a body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * One PUT with XMLHttpRequest, answered as a fetch Response. Browser fetch has no upload progress
 * events and cannot stream a body with a Content-Length (which S3 requires), so without this a
 * part's bytes would show only once the whole part (8 MiB or more) is stored; XHR's upload
 * `progress` events tell the bytes as the browser sends them. Failures look like fetch's: a
 * TypeError for no answer (network, CORS), an AbortError when `signal` fires.
 */
export function xhrPut(url: string, init: XhrPutInit, onSent: (bytes: number) => void): Promise<Response> {
  return new Promise((resolve, reject) => {
    const { signal } = init;
    if (signal.aborted) {
      reject(abortError(signal));
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.responseType = 'arraybuffer';
    for (const [name, value] of Object.entries(init.headers)) {
      // The browser sets Content-Length from the body itself and refuses to be told it.
      if (name.toLowerCase() !== 'content-length') xhr.setRequestHeader(name, value);
    }
    const onAbort = () => xhr.abort();
    const settled = () => signal.removeEventListener('abort', onAbort);
    xhr.upload.addEventListener('progress', (event) => onSent(event.loaded));
    xhr.addEventListener('load', () => {
      settled();
      const body = NULL_BODY_STATUSES.has(xhr.status) ? null : (xhr.response as ArrayBuffer | null);
      resolve(new Response(body, { status: xhr.status, statusText: xhr.statusText, headers: parseHeaders(xhr.getAllResponseHeaders()) }));
    });
    xhr.addEventListener('error', () => {
      settled();
      reject(new TypeError('Failed to fetch (XMLHttpRequest error)'));
    });
    xhr.addEventListener('timeout', () => {
      settled();
      reject(new TypeError('Failed to fetch (XMLHttpRequest timeout)'));
    });
    xhr.addEventListener('abort', () => {
      settled();
      reject(abortError(signal));
    });
    signal.addEventListener('abort', onAbort, { once: true });
    xhr.send(init.body);
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

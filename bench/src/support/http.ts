import { Agent, get, type IncomingMessage, request } from 'node:http';

/** One keep-alive agent, so connection set-up is not part of what is timed. */
export const keepAlive = new Agent({ keepAlive: true, maxSockets: 256 });

/** A JSON call for set-up steps (start an upload, sign parts); throws on a non-2xx answer. */
export async function callJson<T>(url: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init.body === undefined ? null : JSON.stringify(init.body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** A tRPC v11 mutation over plain HTTP (superjson envelope), for set-up steps. */
export async function trpcMutation<T>(baseUrl: string, path: string, input: unknown): Promise<T> {
  const answer = await callJson<{ result: { data: { json: T } } }>(`${baseUrl}/trpc/${path}`, { body: { json: input } });
  return answer.result.data.json;
}

/**
 * Sends one request and reads the whole answer without parsing it, so the time is the server's
 * plus the transfer, not this process's JSON work. Returns the status and the byte count.
 */
export function exchange(url: string, options: { method?: string; body?: string } = {}): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: options.method ?? 'GET',
      agent: keepAlive,
      headers: options.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(options.body) },
    });
    req.once('error', reject);
    req.once('response', (res) => countBody(res).then((bytes) => resolve({ status: res.statusCode ?? 0, bytes }), reject));
    req.end(options.body);
  });
}

/** Downloads `url` as fast as this process can take the bytes, and counts them. */
export function download(url: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: keepAlive }, (res) => {
      countBody(res).then((bytes) => resolve({ status: res.statusCode ?? 0, bytes }), reject);
    }).once('error', reject);
  });
}

/**
 * A reader that takes `bytesPerSecond` for `seconds` and then hangs up: the server must hold
 * back (backpressure) instead of buffering what the reader has not taken.
 */
export function slowDownload(url: string, bytesPerSecond: number, seconds: number): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const req = get(url, { agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        const elapsed = Date.now() - started;
        if (elapsed >= seconds * 1000) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, bytes });
          return;
        }
        // Ahead of the allowed rate: stop reading until the rate catches up.
        const aheadMs = (bytes / bytesPerSecond) * 1000 - elapsed;
        if (aheadMs > 0) {
          res.pause();
          setTimeout(() => res.resume(), aheadMs);
        }
      });
      res.once('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.once('error', (error) => (req.destroyed ? undefined : reject(error)));
  });
}

function countBody(res: IncomingMessage): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    res.on('data', (chunk: Buffer) => (bytes += chunk.length));
    res.once('end', () => resolve(bytes));
    res.once('error', reject);
  });
}

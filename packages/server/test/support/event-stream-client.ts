import { putPart } from './bytes.js';
import { rest } from './rest-client.js';

/** One Server-Sent Events frame as the wire carries it. */
export interface SseFrame {
  /** `message` when the frame names no event. */
  event: string;
  data: string;
  id: string | undefined;
  /** When it arrived (performance.now()). */
  at: number;
}

export interface EventStream {
  status: number;
  headers: Headers;
  /** Every frame so far, pings included. */
  readonly frames: SseFrame[];
  /** The data frames (tRPC's events): the payload (`{ json }` unwrapped) and the SSE id. */
  events(): Array<{ id: string | undefined; event: any; at: number }>;
  /** Resolves with the first frame after `from` (an index into frames) that matches. */
  next(match: (frame: SseFrame) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<SseFrame>;
  /** Resolves when the server ended the response. */
  readonly ended: Promise<void>;
  close(): void;
}

export interface StreamOptions {
  workspaceId: string;
  token?: string;
  /** Sent as the input's `lastEventId` (tRPC's client does this). */
  lastEventId?: string;
  /** Sent as the `Last-Event-ID` header (an EventSource does this when it reconnects by itself). */
  lastEventIdHeader?: string;
}

/**
 * `events.subscribe` over plain HTTP, read frame by frame: what the tRPC client's
 * httpSubscriptionLink does on the wire, with nothing in between to hide what the server sent.
 */
export async function openEventStream(baseUrl: string, options: StreamOptions): Promise<EventStream> {
  const input = { workspaceId: options.workspaceId, ...(options.lastEventId ? { lastEventId: options.lastEventId } : {}) };
  const url = `${baseUrl}/trpc/events.subscribe?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.lastEventIdHeader) headers['last-event-id'] = options.lastEventIdHeader;
  const response = await fetch(url, { headers, signal: abort.signal });
  const frames: SseFrame[] = [];
  const waiters = new Set<() => void>();
  const ended = readFrames(response, frames, () => {
    for (const wake of waiters) wake();
  });
  return {
    status: response.status,
    headers: response.headers,
    frames,
    events: () =>
      frames
        .filter((frame) => frame.event === 'message')
        .map((frame) => ({ id: frame.id, event: (JSON.parse(frame.data) as { json: unknown }).json, at: frame.at })),
    next: (match, { from = 0, timeoutMs = 5_000 } = {}) =>
      new Promise((resolve, reject) => {
        let settled = false;
        const check = () => {
          const found = frames.slice(from).find(match);
          if (found) finish(() => resolve(found));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no such frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`))),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      }),
    ended,
    close: () => abort.abort(),
  };
}

async function readFrames(response: Response, frames: SseFrame[], notify: () => void): Promise<void> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let pending = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      pending += decoder.decode(chunk, { stream: true });
      let boundary = pending.indexOf('\n\n');
      while (boundary !== -1) {
        const block = pending.slice(0, boundary);
        pending = pending.slice(boundary + 2);
        const frame = parseFrame(block);
        if (frame) frames.push(frame);
        boundary = pending.indexOf('\n\n');
      }
      notify();
    }
  } catch (error) {
    if ((error as { name?: string }).name !== 'AbortError') throw error;
  } finally {
    notify();
  }
}

function parseFrame(block: string): SseFrame | undefined {
  let event = 'message';
  const data: string[] = [];
  let id: string | undefined;
  let any = false;
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    any = true;
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  return any ? { event, data: data.join('\n'), id, at: performance.now() } : undefined;
}

/** Uploads a small file through the documented /s3 flow; resolves when complete answered, with its key and when. */
export async function uploadSmallFile(
  baseUrl: string,
  workspaceId: string,
  options: { token?: string; fileName?: string } = {},
): Promise<{ key: string; assetId: string; completedAt: number }> {
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const fileName = options.fileName ?? 'notes.txt';
  const started = await rest(baseUrl, 'GET', '/s3/start-upload', {
    query: { workspaceId, fileType: 'application/octet-stream', fileName },
    headers,
  });
  if (started.status !== 200) throw new Error(`start-upload answered ${started.status}: ${started.text}`);
  const { uploadId, assetId } = started.body as { uploadId: string; assetId: string };
  const signed = await rest(baseUrl, 'GET', '/s3/get-upload-url', {
    query: { workspaceId, assetId, UploadId: uploadId, PartNumber: '1' },
    headers,
  });
  if (signed.status !== 200) throw new Error(`get-upload-url answered ${signed.status}: ${signed.text}`);
  const put = await putPart(signed.body.url as string, Buffer.from(`the bytes of ${fileName}\n`));
  if (put.status !== 200 || !put.etag) throw new Error(`PUT answered ${put.status}`);
  const done = await rest(baseUrl, 'POST', '/s3/complete-upload', {
    json: { workspaceId, assetId, uploadId, parts: [{ PartNumber: 1, ETag: put.etag }] },
    headers,
  });
  const completedAt = performance.now();
  if (done.status !== 200) throw new Error(`complete-upload answered ${done.status}: ${done.text}`);
  return { key: done.body.key as string, assetId, completedAt };
}

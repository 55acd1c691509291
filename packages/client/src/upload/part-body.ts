import type { PartPayload } from './source.js';

/** Slices of this size are handed to fetch one at a time, so progress moves in 64 KiB steps. */
const PROGRESS_CHUNK = 64 * 1024;

export interface PartRequestBody {
  body: BodyInit;
  /** Extra RequestInit members a stream body needs. */
  init: { duplex?: 'half'; headers?: Record<string, string> };
  /** True when the body reports bytes itself as fetch pulls them. */
  countsBytes: boolean;
}

/**
 * The body of a part PUT.
 *
 * Streaming (the Node default): a ReadableStream that fetch pulls slice by slice, counting bytes
 * as they go, so progress moves while a part is on the wire. It needs `duplex: 'half'`, and it
 * sets Content-Length itself because S3 refuses a chunked part upload.
 *
 * Not streaming (the browser default): the bytes or the Blob slice as they are. Browsers only
 * stream request bodies in Chromium over HTTP/2 and never let a stream body carry
 * Content-Length, and fetch has no upload progress events, so there progress moves per part.
 */
export function partRequestBody(payload: PartPayload, streaming: boolean, onSent: (bytes: number) => void): PartRequestBody {
  const size = payload instanceof Blob ? payload.size : payload.byteLength;
  if (!streaming || size === 0) return { body: payload, init: {}, countsBytes: false };
  return {
    body: countingStream(payload, onSent),
    init: { duplex: 'half', headers: { 'content-length': String(size) } },
    countsBytes: true,
  };
}

function countingStream(payload: PartPayload, onSent: (bytes: number) => void): ReadableStream<Uint8Array> {
  let sent = 0;
  const count = (chunk: Uint8Array) => {
    sent += chunk.byteLength;
    onSent(sent);
  };
  if (payload instanceof Blob) {
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          reader ??= payload.stream().getReader();
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            return;
          }
          controller.enqueue(value);
          count(value);
        },
        cancel: (reason) => reader?.cancel(reason),
      },
      // No read-ahead: a chunk is produced (and counted) only when fetch asks for it.
      { highWaterMark: 0 },
    );
  }
  let offset = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= payload.byteLength) {
          controller.close();
          return;
        }
        const chunk = payload.subarray(offset, offset + PROGRESS_CHUNK);
        offset += chunk.byteLength;
        controller.enqueue(chunk);
        count(chunk);
      },
    },
    { highWaterMark: 0 },
  );
}

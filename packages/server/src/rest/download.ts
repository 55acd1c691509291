import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import type { Logger } from '../logger.js';
import type { ObjectBody } from '../storage/store.js';

/**
 * Streams an object with backpressure. The body always goes out as an attachment that browsers
 * must not sniff, so a stored file can never run as a page of this origin.
 */
export async function sendObject(res: Response, object: ObjectBody, logger: Logger): Promise<void> {
  res.status(object.range ? 206 : 200);
  res.set({
    'Content-Type': object.contentType,
    'Content-Length': String(object.contentLength),
    ETag: object.etag,
    'Last-Modified': object.lastModified.toUTCString(),
    'Accept-Ranges': 'bytes',
    'Content-Disposition': `attachment; filename="${object.key.split('/').pop()}"`,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'private, no-cache',
  });
  if (object.range) res.set('Content-Range', `bytes ${object.range.start}-${object.range.end}/${object.size}`);
  try {
    await pipeline(object.body, res);
  } catch (error) {
    // The client went away or the store's stream broke mid-body; headers are gone, so the
    // connection is cut and the client sees a short body rather than a wrong one.
    if (!res.destroyed) res.destroy();
    if (!res.req.destroyed && !isPrematureClose(error)) logger.warn({ err: error, key: object.key }, 'download stream failed');
  }
}

function isPrematureClose(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

import { pipeline } from 'node:stream/promises';
import { create as contentDisposition } from 'content-disposition';
import type { Request, Response } from 'express';

import type { Logger } from '../../logger.js';
import { UnsatisfiableRangeError } from '../../storage/byte-range.js';
import { CHECKSUM_TYPE_HEADER, SHA256_HEADER } from '../../storage/checksum.js';
import type { ObjectBody } from '../../storage/store.js';
import { withIdleTimeout } from './idle-guard.js';
import { sendQueueProbe } from './send-queue.js';

/** An object to send, with the name it is saved as when the catalogue knows one. */
export type NamedObjectBody = ObjectBody & { fileName?: string | null };

export interface WriteObjectOptions {
  /**
   * A body is cut when the store sends nothing this long while the reader waits, or when the
   * reader takes nothing (its socket's queue stands still) for up to twice this long.
   */
  idleTimeoutMs: number;
  logger: Pick<Logger, 'warn'>;
}

/**
 * The one writer of object downloads, for GET /s3/download and the local store's signed URLs
 * alike: 200, 206 with Content-Range, HEAD (headers only), and the Content-Range of a 416 before
 * its error goes on to the error handler. The body always goes out as an attachment that browsers
 * must not sniff, so a stored file can never run as a page of this origin, and with backpressure
 * under the idle guard.
 */
export async function writeObject(
  req: Request,
  res: Response,
  open: () => Promise<NamedObjectBody>,
  options: WriteObjectOptions,
): Promise<void> {
  const object = await open().catch((error: unknown) => {
    if (error instanceof UnsatisfiableRangeError && error.objectSize !== undefined) {
      res.setHeader('Content-Range', `bytes */${error.objectSize}`);
    }
    throw error;
  });
  res.status(object.range ? 206 : 200);
  for (const [name, value] of Object.entries(objectHeaders(object))) res.setHeader(name, value);
  if (req.method === 'HEAD') {
    object.body.destroy();
    res.end();
    return;
  }
  try {
    const reader = { response: res, sendQueue: sendQueueProbe(req.socket) };
    await pipeline(withIdleTimeout(object.body, options.idleTimeoutMs, reader), res);
  } catch (error) {
    // The client went away or the store's stream broke mid-body; headers are gone, so the
    // connection is cut and the client sees a short body rather than a wrong one.
    if (!res.destroyed) res.destroy();
    if (!req.destroyed && !isPrematureClose(error)) options.logger.warn({ err: error, key: object.key }, 'download stream failed');
  }
}

/**
 * Set one by one with setHeader: Express's res.set would append a charset to the stored
 * Content-Type, and the bytes are sent as they were stored.
 */
function objectHeaders(object: NamedObjectBody): Record<string, string> {
  return {
    'Content-Type': object.contentType,
    'Content-Length': String(object.contentLength),
    ETag: object.etag,
    'Last-Modified': object.lastModified.toUTCString(),
    'Accept-Ranges': 'bytes',
    // RFC 6266: an ASCII fallback plus filename* for names beyond it, as the content-disposition package writes them.
    'Content-Disposition': contentDisposition(object.fileName || (object.key.split('/').pop() ?? 'download')),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'private, no-cache',
    ...(object.range ? { 'Content-Range': `bytes ${object.range.start}-${object.range.end}/${object.size}` } : {}),
    // As S3 reports it, and like S3 only with the whole object: a range has no checksum of its own.
    ...(object.checksum && !object.range ? { [SHA256_HEADER]: object.checksum.value, [CHECKSUM_TYPE_HEADER]: object.checksum.type } : {}),
  };
}

function isPrematureClose(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

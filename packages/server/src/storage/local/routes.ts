import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { type Request, type Response, Router } from 'express';
import { AppError, isAppError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { readCorsRules } from './bucket-config.js';
import { parseRangeHeader } from './byte-range.js';
import type { LocalContext } from './context.js';
import { addCorsHeaders, answerPreflight } from './cors-middleware.js';
import { sendSignedUrlErrors } from './http-errors.js';
import { getObject, headObject } from './objects.js';
import { receivePart, refuseDeclaredOversize } from './part-receiver.js';
import { readOpenUpload, savePart } from './uploads.js';
import { SIGNED_OBJECT_PATH, type UrlSigner } from './url-signer.js';

/** Express 5 names wildcards; `key` arrives as its decoded path segments. */
const OBJECT_ROUTE = `${SIGNED_OBJECT_PATH}/*key` as const;

export interface SignedUrlRoutesOptions {
  context: LocalContext;
  signer: UrlSigner;
  logger?: Pick<Logger, 'error' | 'warn'>;
}

/**
 * What a browser does with the URLs this driver signs: PUT a part, GET an object, and the CORS
 * preflight before either. No body parser: part bodies stream straight to disk.
 */
export function createSignedUrlRoutes({ context, signer, logger }: SignedUrlRoutesOptions): Router {
  const router = Router();
  const readRules = () => readCorsRules(context.layout);

  router.options(OBJECT_ROUTE, answerPreflight(readRules));
  router.use(SIGNED_OBJECT_PATH, addCorsHeaders(readRules));

  router.put(OBJECT_ROUTE, async (req, res) => {
    const key = req.params.key.join('/');
    const { uploadId, partNumber, contentLength } = signer.verifyPart(key, queryOf(req));
    refuseDeclaredOversize(req);
    if (contentLength !== undefined) assertPinnedLength(req, contentLength);
    // Checked before the body is read so a dead upload costs no disk writes; checked again on commit.
    await readOpenUpload(context, key, uploadId);
    const file = context.layout.tempFile();
    try {
      const received = await receivePart(req, file, contentLength);
      if (contentLength !== undefined && received.size !== contentLength) throw lengthMismatch(contentLength);
      await savePart(context, key, uploadId, partNumber, file, received);
      res.status(200).set('ETag', `"${received.md5}"`).end();
    } finally {
      await rm(file, { force: true });
    }
  });

  router.get(OBJECT_ROUTE, async (req, res) => {
    const key = req.params.key.join('/');
    signer.verifyGet(key, queryOf(req));
    await sendObject(context, key, req, res, logger);
  });

  router.use(SIGNED_OBJECT_PATH, sendSignedUrlErrors(logger));
  return router;
}

/** Streams an object as a download: never rendered inline by the browser, one byte range at most. */
async function sendObject(
  context: LocalContext,
  key: string,
  req: Request,
  res: Response,
  logger: Pick<Logger, 'warn'> | undefined,
): Promise<void> {
  const range = parseRangeHeader(req.get('range'));
  const object = await getObject(context, key, range ? { range } : {}).catch(async (error: unknown) => {
    if (isAppError(error) && error.appCode === 'RANGE_NOT_SATISFIABLE') {
      const info = await headObject(context, key);
      if (info) res.setHeader('Content-Range', `bytes */${info.size}`);
    }
    throw error;
  });
  // setHeader, not res.set: Express would append a charset to the stored Content-Type.
  res.status(object.range ? 206 : 200);
  res.setHeader('Content-Type', object.contentType);
  res.setHeader('Content-Length', String(object.contentLength));
  res.setHeader('ETag', object.etag);
  res.setHeader('Last-Modified', object.lastModified.toUTCString());
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Disposition', `attachment; filename="${downloadName(key)}"`);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (object.range) res.setHeader('Content-Range', `bytes ${object.range.start}-${object.range.end}/${object.size}`);
  if (req.method === 'HEAD') {
    object.body.destroy();
    res.end();
    return;
  }
  try {
    await pipeline(object.body, res);
  } catch (error) {
    // pipeline has closed both ends; a client that left early is routine, anything else is worth a line.
    if (!req.socket.destroyed) logger?.warn({ err: error, key }, 'download stream failed');
  }
}

/** Like S3 with a signed content-length: any other declared length fails the signature. */
function assertPinnedLength(req: Request, contentLength: number): void {
  if (req.headers['content-length'] !== String(contentLength)) throw lengthMismatch(contentLength);
}

function lengthMismatch(contentLength: number): AppError {
  return new AppError('INVALID_SIGNATURE', `this URL accepts a body of exactly ${contentLength} bytes`);
}

/** The exact query as sent, repeated parameters included (they are refused, not merged). */
function queryOf(req: Request): URLSearchParams {
  return new URL(req.originalUrl, 'http://signed.invalid').searchParams;
}

/** The asset id, reduced to characters that are safe inside a quoted header parameter. */
function downloadName(key: string): string {
  return (key.split('/').pop() ?? 'download').replace(/[^A-Za-z0-9._-]/g, '_');
}

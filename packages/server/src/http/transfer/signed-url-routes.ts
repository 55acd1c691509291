import { type Request, Router } from 'express';
import type { Logger } from '../../logger.js';
import { MAX_PART_SIZE, partLengthMismatch, partTooLarge } from '../../storage/multipart.js';
import type { ObjectStore, SignedUrlEndpoint } from '../../storage/store.js';
import { addCorsHeaders, answerPreflight } from './bucket-cors.js';
import { writeObject } from './object-writer.js';
import { parseRange } from './range.js';
import { sendSignedUrlErrors } from './signed-url-errors.js';

export interface SignedUrlRoutesOptions {
  /** A download whose bytes stop moving this long is cut, as on GET /s3/download. */
  downloadIdleTimeoutMs: number;
  logger: Pick<Logger, 'error' | 'warn'>;
}

/**
 * What a browser does with the URLs a store signs for this server (the local store's): PUT a part,
 * GET or HEAD an object, and the CORS preflight before either, answered from the bucket's CORS
 * rules as S3 answers them. No body parser: part bodies stream straight to the store.
 */
export function createSignedUrlRoutes(store: ObjectStore & { signedUrls: SignedUrlEndpoint }, options: SignedUrlRoutesOptions): Router {
  const endpoint = store.signedUrls;
  // Express 5 names wildcards; `key` arrives as its decoded path segments.
  const objectRoute = `${endpoint.basePath}/*key`;
  const router = Router();
  const readRules = () => store.getCorsRules();

  router.options(objectRoute, answerPreflight(readRules));
  router.use(endpoint.basePath, addCorsHeaders(readRules));

  router.put(objectRoute, async (req, res) => {
    const grant = endpoint.verifyPartUrl(keyOf(req), queryOf(req));
    refuseDeclaredOversize(req);
    if (grant.contentLength !== undefined) assertDeclaredLength(req, grant.contentLength);
    const { etag } = await endpoint.receivePart(grant, req);
    res.status(200).set('ETag', etag).end();
  });

  router.get(objectRoute, async (req, res) => {
    const key = keyOf(req);
    const { fileName, contentType } = endpoint.verifyGetUrl(key, queryOf(req));
    const range = parseRange(req.get('range'));
    const open = async () => ({
      ...(await store.getObject(key, range ? { range } : {})),
      fileName,
      ...(contentType ? { contentType } : {}),
    });
    await writeObject(req, res, open, { idleTimeoutMs: options.downloadIdleTimeoutMs, logger: options.logger });
  });

  router.use(endpoint.basePath, sendSignedUrlErrors(options.logger));
  return router;
}

function keyOf(req: Request): string {
  return (req.params as { key: string[] }).key.join('/');
}

/** The exact query as sent, repeated parameters included (they are refused, not merged). */
function queryOf(req: Request): URLSearchParams {
  return new URL(req.originalUrl, 'http://signed.invalid').searchParams;
}

/** Refuses, before a byte is read, a body whose declared length is already too large. */
function refuseDeclaredOversize(req: Request): void {
  if (Number(req.headers['content-length'] ?? 0) > MAX_PART_SIZE) throw partTooLarge(MAX_PART_SIZE);
}

/** Like S3 with a signed Content-Length: any other declared length fails the signature. */
function assertDeclaredLength(req: Request, contentLength: number): void {
  if (req.headers['content-length'] !== String(contentLength)) throw partLengthMismatch(contentLength);
}

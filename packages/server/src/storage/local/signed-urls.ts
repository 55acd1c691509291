import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { checksumMismatch, partLengthMismatch, quoteEtag } from '../multipart.js';
import type { PartGrant, SignedUrlEndpoint } from '../store.js';
import type { LocalContext } from './context.js';
import { receivePart } from './part-receiver.js';
import { readOpenUpload, savePart } from './uploads.js';
import { SIGNED_OBJECT_PATH, type UrlSigner } from './url-signer.js';

/**
 * What the HTTP layer calls to serve the URLs this store signs: check a signature, store a part's
 * body. Objects are read through the store's own getObject.
 */
export function createSignedUrlEndpoint(context: LocalContext, signer: UrlSigner): SignedUrlEndpoint {
  return {
    basePath: SIGNED_OBJECT_PATH,
    verifyPartUrl: (key, query) => ({ key, ...signer.verifyPart(key, query) }),
    verifyGetUrl: (key, query) => signer.verifyGet(key, query),
    receivePart: (grant, body) => storePart(context, grant, body),
  };
}

/**
 * Streams the body to a temporary file, hashing it, then moves it into the upload (a signed PUT,
 * or a part the server writes itself: one code path for both). The upload is
 * checked before the first byte is read, so a dead upload costs no disk writes, and again when the
 * part is committed.
 */
export async function storePart(context: LocalContext, grant: PartGrant, body: Readable): Promise<{ etag: string; size: number }> {
  await readOpenUpload(context, grant.key, grant.uploadId);
  const file = context.layout.tempFile();
  try {
    const received = await receivePart(body, file, { limit: grant.contentLength, sha256: grant.checksum !== undefined });
    if (grant.contentLength !== undefined && received.size !== grant.contentLength) throw partLengthMismatch(grant.contentLength);
    if (grant.checksum !== undefined && received.sha256 !== grant.checksum) throw checksumMismatch();
    await savePart(context, grant.key, grant.uploadId, grant.partNumber, file, received);
    return { etag: quoteEtag(received.etagHex), size: received.size };
  } finally {
    await rm(file, { force: true });
  }
}

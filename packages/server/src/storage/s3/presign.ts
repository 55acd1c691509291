import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { create as contentDisposition } from 'content-disposition';
import type { SignGetOptions, SignPartOptions } from '../store.js';
import type { S3Context } from './context.js';
import { toStoreError } from './errors.js';
import { PartUrlSigner } from './part-url-signer.js';
import { assertPlausibleUploadId } from './upload-id.js';

/** One part signer per client: it caches the requests of recent uploads, and lives as long as the client. */
const partSigners = new WeakMap<S3Client, PartUrlSigner>();

/**
 * Presigned UploadPart URLs for a browser to PUT part bytes to S3 directly. Signing is local
 * (credentials and HMAC, no request to S3), so many parts cost one upload check, done by the
 * caller with `assertUploadOpen`. The store's clock is the signing date so tests can mint
 * URLs that are already expired. The URLs are the SDK's own (see part-url-signer.ts for how
 * 10,000 of them take milliseconds instead of seconds).
 */
export async function signPartUrls(
  s3: S3Context,
  key: string,
  uploadId: string,
  partNumbers: readonly number[],
  expiresIn: number,
  options: SignPartOptions = {},
): Promise<string[]> {
  assertPlausibleUploadId(uploadId);
  let signer = partSigners.get(s3.client);
  if (!signer) {
    signer = new PartUrlSigner(s3.client);
    partSigners.set(s3.client, signer);
  }
  try {
    return await signer.sign({
      bucket: s3.bucket,
      key,
      uploadId,
      partNumbers,
      contentLengths: options.contentLengths,
      checksums: options.checksums,
      expiresIn,
      signingDate: new Date(s3.now()),
    });
  } catch (error) {
    throw toStoreError(error, 'presign UploadPart');
  }
}

/**
 * A presigned GET of the object. S3 is told to serve it as an attachment: the content type was
 * chosen by the uploader, and an inline text/html or SVG object would run as a page of the
 * bucket's origin when the link is opened.
 */
export async function signGetUrl(s3: S3Context, key: string, expiresIn: number, options: SignGetOptions = {}): Promise<string> {
  const { fileName, contentType } = options;
  const disposition = fileName === undefined ? 'attachment' : contentDisposition(fileName);
  const command = new GetObjectCommand({
    Bucket: s3.bucket,
    Key: key,
    ResponseContentDisposition: disposition,
    ResponseContentType: contentType,
  });
  try {
    return await getSignedUrl(s3.client, command, {
      expiresIn,
      signingDate: new Date(s3.now()),
    });
  } catch (error) {
    throw toStoreError(error, 'presign GetObject');
  }
}
